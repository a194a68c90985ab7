"use strict";
var __esDecorate = (this && this.__esDecorate) || function (ctor, descriptorIn, decorators, contextIn, initializers, extraInitializers) {
    function accept(f) { if (f !== void 0 && typeof f !== "function") throw new TypeError("Function expected"); return f; }
    var kind = contextIn.kind, key = kind === "getter" ? "get" : kind === "setter" ? "set" : "value";
    var target = !descriptorIn && ctor ? contextIn["static"] ? ctor : ctor.prototype : null;
    var descriptor = descriptorIn || (target ? Object.getOwnPropertyDescriptor(target, contextIn.name) : {});
    var _, done = false;
    for (var i = decorators.length - 1; i >= 0; i--) {
        var context = {};
        for (var p in contextIn) context[p] = p === "access" ? {} : contextIn[p];
        for (var p in contextIn.access) context.access[p] = contextIn.access[p];
        context.addInitializer = function (f) { if (done) throw new TypeError("Cannot add initializers after decoration has completed"); extraInitializers.push(accept(f || null)); };
        var result = (0, decorators[i])(kind === "accessor" ? { get: descriptor.get, set: descriptor.set } : descriptor[key], context);
        if (kind === "accessor") {
            if (result === void 0) continue;
            if (result === null || typeof result !== "object") throw new TypeError("Object expected");
            if (_ = accept(result.get)) descriptor.get = _;
            if (_ = accept(result.set)) descriptor.set = _;
            if (_ = accept(result.init)) initializers.unshift(_);
        }
        else if (_ = accept(result)) {
            if (kind === "field") initializers.unshift(_);
            else descriptor[key] = _;
        }
    }
    if (target) Object.defineProperty(target, contextIn.name, descriptor);
    done = true;
};
var __runInitializers = (this && this.__runInitializers) || function (thisArg, initializers, value) {
    var useValue = arguments.length > 2;
    for (var i = 0; i < initializers.length; i++) {
        value = useValue ? initializers[i].call(thisArg, value) : initializers[i].call(thisArg);
    }
    return useValue ? value : void 0;
};
var __setFunctionName = (this && this.__setFunctionName) || function (f, name, prefix) {
    if (typeof name === "symbol") name = name.description ? "[".concat(name.description, "]") : "";
    return Object.defineProperty(f, "name", { configurable: true, value: prefix ? "".concat(prefix, " ", name) : name });
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.PlanSelector = void 0;
var common_1 = require("@nestjs/common");
var contracts_1 = require("@outlet/contracts");
var edge_node_1 = require("@outlet/edge-node");
var model_package_1 = require("@outlet/model-package");
/** Online half of the planner: the plan for the node's current CPU load, from the package's table. */
var PlanSelector = function () {
    var _classDecorators = [(0, common_1.Injectable)()];
    var _classDescriptor;
    var _classExtraInitializers = [];
    var _classThis;
    var PlanSelector = _classThis = /** @class */ (function () {
        function PlanSelector_1(models) {
            this.logger = new common_1.Logger(PlanSelector.name);
            this.cpu = new edge_node_1.CpuMonitor({ excludeSelf: true }).start();
            this.tables = new Map();
            this.earlyExits = new Map();
            for (var _i = 0, models_1 = models; _i < models_1.length; _i++) {
                var _a = models_1[_i], name_1 = _a[0], model = _a[1];
                var table = (0, model_package_1.readPackageJson)(model.pkg, model_package_1.PLAN_TABLE_FILE);
                if (!table)
                    this.logger.warn("".concat(name_1, " has no ").concat(model_package_1.PLAN_TABLE_FILE, ": plan=auto falls back to parallel (run 'npm run outlet -- plan ").concat(name_1, " --write')"));
                this.tables.set(name_1, table);
                this.earlyExits.set(name_1, (0, model_package_1.earlyExitCount)(model.manifest));
            }
        }
        PlanSelector_1.prototype.cpuUtilization = function () {
            return this.cpu.utilization();
        };
        PlanSelector_1.prototype.choose = function (model) {
            var _a;
            var cpuUtil = this.cpu.utilization();
            var table = this.tables.get(model);
            var plan = table ? (0, model_package_1.planForUtilization)(table, cpuUtil).plan : (0, contracts_1.parsePlan)('parallel', (_a = this.earlyExits.get(model)) !== null && _a !== void 0 ? _a : 0);
            return { plan: plan, cpuUtil: cpuUtil };
        };
        PlanSelector_1.prototype.onApplicationShutdown = function () {
            this.cpu.stop();
        };
        return PlanSelector_1;
    }());
    __setFunctionName(_classThis, "PlanSelector");
    (function () {
        var _metadata = typeof Symbol === "function" && Symbol.metadata ? Object.create(null) : void 0;
        __esDecorate(null, _classDescriptor = { value: _classThis }, _classDecorators, { kind: "class", name: _classThis.name, metadata: _metadata }, null, _classExtraInitializers);
        PlanSelector = _classThis = _classDescriptor.value;
        if (_metadata) Object.defineProperty(_classThis, Symbol.metadata, { enumerable: true, configurable: true, writable: true, value: _metadata });
        __runInitializers(_classThis, _classExtraInitializers);
    })();
    return PlanSelector = _classThis;
}();
exports.PlanSelector = PlanSelector;
