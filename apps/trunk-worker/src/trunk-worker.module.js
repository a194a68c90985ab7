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
var __awaiter = (this && this.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};
var __generator = (this && this.__generator) || function (thisArg, body) {
    var _ = { label: 0, sent: function() { if (t[0] & 1) throw t[1]; return t[1]; }, trys: [], ops: [] }, f, y, t, g = Object.create((typeof Iterator === "function" ? Iterator : Object).prototype);
    return g.next = verb(0), g["throw"] = verb(1), g["return"] = verb(2), typeof Symbol === "function" && (g[Symbol.iterator] = function() { return this; }), g;
    function verb(n) { return function (v) { return step([n, v]); }; }
    function step(op) {
        if (f) throw new TypeError("Generator is already executing.");
        while (g && (g = 0, op[0] && (_ = 0)), _) try {
            if (f = 1, y && (t = op[0] & 2 ? y["return"] : op[0] ? y["throw"] || ((t = y["return"]) && t.call(y), 0) : y.next) && !(t = t.call(y, op[1])).done) return t;
            if (y = 0, t) op = [op[0] & 2, t.value];
            switch (op[0]) {
                case 0: case 1: t = op; break;
                case 4: _.label++; return { value: op[1], done: false };
                case 5: _.label++; y = op[1]; op = [0]; continue;
                case 7: op = _.ops.pop(); _.trys.pop(); continue;
                default:
                    if (!(t = _.trys, t = t.length > 0 && t[t.length - 1]) && (op[0] === 6 || op[0] === 2)) { _ = 0; continue; }
                    if (op[0] === 3 && (!t || (op[1] > t[0] && op[1] < t[3]))) { _.label = op[1]; break; }
                    if (op[0] === 6 && _.label < t[1]) { _.label = t[1]; t = op; break; }
                    if (t && _.label < t[2]) { _.label = t[2]; _.ops.push(op); break; }
                    if (t[2]) _.ops.pop();
                    _.trys.pop(); continue;
            }
            op = body.call(thisArg, _);
        } catch (e) { op = [6, e]; y = 0; } finally { f = t = 0; }
        if (op[0] & 5) throw op[1]; return { value: op[0] ? op[1] : void 0, done: true };
    }
};
var __setFunctionName = (this && this.__setFunctionName) || function (f, name, prefix) {
    if (typeof name === "symbol") name = name.description ? "[".concat(name.description, "]") : "";
    return Object.defineProperty(f, "name", { configurable: true, value: prefix ? "".concat(prefix, " ", name) : name });
};
var __spreadArray = (this && this.__spreadArray) || function (to, from, pack) {
    if (pack || arguments.length === 2) for (var i = 0, l = from.length, ar; i < l; i++) {
        if (ar || !(i in from)) {
            if (!ar) ar = Array.prototype.slice.call(from, 0, i);
            ar[i] = from[i];
        }
    }
    return to.concat(ar || Array.prototype.slice.call(from));
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.TrunkWorkerModule = void 0;
var common_1 = require("@nestjs/common");
var bullmq_1 = require("@nestjs/bullmq");
var config_1 = require("@outlet/config");
var contracts_1 = require("@outlet/contracts");
var inference_1 = require("@outlet/inference");
var node_path_1 = require("node:path");
var early_exit_inbox_service_1 = require("./early-exit-inbox.service");
var branch_handoff_service_1 = require("./branch-handoff.service");
var node_heartbeat_service_1 = require("./node-heartbeat.service");
var plan_selector_service_1 = require("./plan-selector.service");
var trunk_task_runner_1 = require("./trunk-task.runner");
var infer_processor_1 = require("./infer.processor");
var tokens_1 = require("./tokens");
/** Open every model's segments and heads on the trunk's execution provider before any job is taken. */
function loadModels(settings, packages) {
    return __awaiter(this, void 0, void 0, function () {
        var logger, first, ep, models, _i, packages_1, _a, name_1, pkg, _b, _c, _d;
        return __generator(this, function (_e) {
            switch (_e.label) {
                case 0:
                    logger = new common_1.Logger('TrunkModels');
                    first = __spreadArray([], packages.values(), true)[0];
                    return [4 /*yield*/, (0, inference_1.resolveExecutionProvider)(settings.trunkEp, (0, node_path_1.join)(first.dir, first.manifest.segments[0].file), settings.threads, function (message) { return logger.log(message); })];
                case 1:
                    ep = _e.sent();
                    models = new Map();
                    _i = 0, packages_1 = packages;
                    _e.label = 2;
                case 2:
                    if (!(_i < packages_1.length)) return [3 /*break*/, 5];
                    _a = packages_1[_i], name_1 = _a[0], pkg = _a[1];
                    _c = (_b = models).set;
                    _d = [name_1];
                    return [4 /*yield*/, inference_1.MultiExitModel.load(pkg, ep, settings.threads)];
                case 3:
                    _c.apply(_b, _d.concat([_e.sent()]));
                    logger.log("".concat(name_1, " v").concat(pkg.manifest.version, ": ").concat(pkg.manifest.segments.length, " segments, ").concat(pkg.manifest.exits.length, " exits on ").concat(ep, " (").concat(settings.threads, " thread(s))"));
                    _e.label = 4;
                case 4:
                    _i++;
                    return [3 /*break*/, 2];
                case 5: return [2 /*return*/, models];
            }
        });
    });
}
var TrunkWorkerModule = function () {
    var _classDecorators = [(0, common_1.Module)({})];
    var _classDescriptor;
    var _classExtraInitializers = [];
    var _classThis;
    var TrunkWorkerModule = _classThis = /** @class */ (function () {
        function TrunkWorkerModule_1() {
        }
        TrunkWorkerModule_1.forRoot = function (settings, packages) {
            var processors = __spreadArray([], packages.keys(), true).map(function (m) { return (0, infer_processor_1.inferProcessorFor)(m, settings.concurrency); });
            return {
                module: TrunkWorkerModule,
                imports: [
                    bullmq_1.BullModule.forRoot({ connection: (0, config_1.bullConnection)(settings.redisUrl) }),
                    // The queues this worker takes tasks from, and its own node's branch queue it hands off to.
                    bullmq_1.BullModule.registerQueue.apply(
                    // The queues this worker takes tasks from, and its own node's branch queue it hands off to.
                    bullmq_1.BullModule, __spreadArray(__spreadArray([], __spreadArray([], packages.keys(), true).map(function (m) { return ({ name: (0, contracts_1.inferQueueName)(m) }); }), false), [{ name: (0, contracts_1.branchQueueName)(settings.nodeId) }], false)),
                ],
                providers: __spreadArray([
                    { provide: tokens_1.TRUNK_SETTINGS, useValue: settings },
                    { provide: tokens_1.TRUNK_MODELS, useFactory: function () { return loadModels(settings, packages); } },
                    early_exit_inbox_service_1.EarlyExitInbox,
                    {
                        provide: branch_handoff_service_1.BranchHandOff,
                        useFactory: function (queue) { return new branch_handoff_service_1.BranchHandOff(settings, queue); },
                        inject: [(0, bullmq_1.getQueueToken)((0, contracts_1.branchQueueName)(settings.nodeId))],
                    },
                    plan_selector_service_1.PlanSelector,
                    node_heartbeat_service_1.NodeHeartbeat,
                    trunk_task_runner_1.TrunkTaskRunner
                ], processors, true),
            };
        };
        return TrunkWorkerModule_1;
    }());
    __setFunctionName(_classThis, "TrunkWorkerModule");
    (function () {
        var _metadata = typeof Symbol === "function" && Symbol.metadata ? Object.create(null) : void 0;
        __esDecorate(null, _classDescriptor = { value: _classThis }, _classDecorators, { kind: "class", name: _classThis.name, metadata: _metadata }, null, _classExtraInitializers);
        TrunkWorkerModule = _classThis = _classDescriptor.value;
        if (_metadata) Object.defineProperty(_classThis, Symbol.metadata, { enumerable: true, configurable: true, writable: true, value: _metadata });
        __runInitializers(_classThis, _classExtraInitializers);
    })();
    return TrunkWorkerModule = _classThis;
}();
exports.TrunkWorkerModule = TrunkWorkerModule;
