"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.PLAN_TABLE_FILE = void 0;
exports.planForUtilization = planForUtilization;
exports.PLAN_TABLE_FILE = 'plans.json';
/** The row for utilization `u` (rows sorted by cpu_util_max; the last covers the rest). */
function planForUtilization(table, u) {
    var _a;
    return (_a = table.rows.find(function (r) { return u <= r.cpu_util_max; })) !== null && _a !== void 0 ? _a : table.rows[table.rows.length - 1];
}
