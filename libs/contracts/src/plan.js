"use strict";
var __extends = (this && this.__extends) || (function () {
    var extendStatics = function (d, b) {
        extendStatics = Object.setPrototypeOf ||
            ({ __proto__: [] } instanceof Array && function (d, b) { d.__proto__ = b; }) ||
            function (d, b) { for (var p in b) if (Object.prototype.hasOwnProperty.call(b, p)) d[p] = b[p]; };
        return extendStatics(d, b);
    };
    return function (d, b) {
        if (typeof b !== "function" && b !== null)
            throw new TypeError("Class extends value " + String(b) + " is not a constructor or null");
        extendStatics(d, b);
        function __() { this.constructor = d; }
        d.prototype = b === null ? Object.create(b) : (__.prototype = b.prototype, new __());
    };
})();
Object.defineProperty(exports, "__esModule", { value: true });
exports.PlanError = exports.PLAN_PRESETS = exports.PLACEMENTS = void 0;
exports.parsePlan = parsePlan;
exports.formatPlan = formatPlan;
exports.PLACEMENTS = ['branch', 'trunk', 'skip'];
/** Named plans; `auto` asks the planner (when the model has a plan table). */
exports.PLAN_PRESETS = ['serial', 'parallel', 'full', 'auto'];
var PlanError = /** @class */ (function (_super) {
    __extends(PlanError, _super);
    function PlanError() {
        return _super !== null && _super.apply(this, arguments) || this;
    }
    return PlanError;
}(Error));
exports.PlanError = PlanError;
/**
 * Parse `serial` | `parallel` | `full` | `branch,trunk,skip,...` into one placement per early
 * exit. `auto` is resolved by the caller, which knows the node's load.
 */
function parsePlan(text, earlyExitCount) {
    var spec = text.trim();
    if (spec === 'serial')
        return Array(earlyExitCount).fill('trunk');
    if (spec === 'parallel')
        return Array(earlyExitCount).fill('branch');
    if (spec === 'full')
        return Array(earlyExitCount).fill('skip');
    var parts = spec.split(',').map(function (p) { return p.trim(); });
    var unknown = parts.filter(function (p) { return !exports.PLACEMENTS.includes(p); });
    if (unknown.length > 0) {
        throw new PlanError("unknown plan or placement '".concat(unknown[0], "': use serial, parallel, full, auto or a comma list of ").concat(exports.PLACEMENTS.join('|')));
    }
    if (parts.length !== earlyExitCount) {
        throw new PlanError("plan '".concat(spec, "' has ").concat(parts.length, " placement(s) but the model has ").concat(earlyExitCount, " early exit(s)"));
    }
    return parts;
}
function formatPlan(plan) {
    return plan.join(',');
}
