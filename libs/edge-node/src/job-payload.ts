import { UnrecoverableError } from 'bullmq';
import { ContractError } from '@outlet/contracts';

/**
 * A job's payload through its contract's check (checkInferJobData, checkBranchJobData). A malformed
 * one fails its job alone, unrecoverably (a retry would meet the same payload), naming the field;
 * the worker goes on serving.
 */
export function checkedPayload<T>(check: () => T, job: string): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof ContractError) throw new UnrecoverableError(`${job}: malformed job: ${err.message}`);
    throw err;
  }
}
