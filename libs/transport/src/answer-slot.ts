import Redis from 'ioredis';
import { AnswerMessage, HANDOFF_TTL_MS, TaskAnswer, answerKey, checkAnswerMessage, parseChecked } from '@outlet/contracts';

/**
 * The race between exit decisions is settled in one place: a task's answer key. The first decision
 * to set it (SET NX) is the answer, and in the same atomic step it is published to whoever waits
 * (the gateway, the node's trunk). A later decision gets the stored answer back instead, so the
 * HTTP reply, the job record and every client see the same one.
 *
 * KEYS[1] answer key; ARGV[1] the AnswerMessage JSON; ARGV[2] TTL (ms); ARGV[3..] channels.
 */
const CLAIM_LUA = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  for i = 3, #ARGV do redis.call('PUBLISH', ARGV[i], ARGV[1]) end
  return false
end
return redis.call('GET', KEYS[1])
`;

type ClaimingRedis = Redis & { outletClaimAnswer(key: string, message: string, ttl: number, ...channels: string[]): Promise<string | null> };

function withClaim(redis: Redis): ClaimingRedis {
  const r = redis as ClaimingRedis;
  if (typeof r.outletClaimAnswer !== 'function') r.defineCommand('outletClaimAnswer', { numberOfKeys: 1, lua: CLAIM_LUA });
  return r;
}

export interface ClaimResult {
  /** The task's answer: this one if it won, else the one that was there first. */
  answer: TaskAnswer;
  won: boolean;
}

/** Offer `answer` as the task's answer; on a win it is published on `channels` (one round trip). */
export async function claimAnswer(redis: Redis, answer: TaskAnswer, channels: string[]): Promise<ClaimResult> {
  const message: AnswerMessage = { taskId: answer.taskId, answer };
  const earlier = await withClaim(redis).outletClaimAnswer(answerKey(answer.taskId), JSON.stringify(message), HANDOFF_TTL_MS, ...channels);
  if (earlier === null) return { answer, won: true };
  return { answer: parseAnswerMessage(earlier)?.answer ?? answer, won: false };
}

/** Whether a task already has its answer (its queued subjobs need not run). */
export async function isAnswered(redis: Redis, taskId: string): Promise<boolean> {
  return (await redis.exists(answerKey(taskId))) === 1;
}

/** Parse an answer-channel message; undefined when it is not one. */
export function parseAnswerMessage(text: string): AnswerMessage | undefined {
  return parseChecked(checkAnswerMessage, text);
}
