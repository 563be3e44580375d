import { humanDuration } from './human-time';

it("says durations in docker's words", () => {
  expect([0, 1000, 42_000, 61_000, 5 * 60_000, 3600_000, 5 * 3600_000, 3 * 86_400_000].map(humanDuration)).toEqual([
    'Less than a second',
    '1 second',
    '42 seconds',
    'About a minute',
    '5 minutes',
    'About an hour',
    '5 hours',
    '3 days',
  ]);
});
