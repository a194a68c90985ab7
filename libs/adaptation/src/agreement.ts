import { AuditRecord, agreesWithFinal } from '@outlet/contracts';

/** Per exit: the audited tasks answered there and how many of them agreed with the final exit. */
export interface ExitAgreement {
  exit: number;
  answered: number;
  agreed: number;
  /** agreed / answered; null when none was answered there. */
  ratio: number | null;
}

/**
 * Windowed agreement with the final exit of the tasks answered at each exit (as they were
 * answered, whatever thresholds were live then): what `outlet_exit_agreement_ratio` shows.
 */
export function agreementByExit(records: readonly AuditRecord[], exitCount: number): ExitAgreement[] {
  const rows: ExitAgreement[] = Array.from({ length: exitCount }, (_, exit) => ({ exit, answered: 0, agreed: 0, ratio: null }));
  for (const r of records) {
    const row = rows[r.answerExit];
    if (!row || r.exits.length !== exitCount) continue;
    row.answered++;
    if (agreesWithFinal(r)) row.agreed++;
  }
  for (const row of rows) row.ratio = row.answered ? row.agreed / row.answered : null;
  return rows;
}
