"use strict";
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
Object.defineProperty(exports, "__esModule", { value: true });
exports.BranchHandOff = void 0;
var common_1 = require("@nestjs/common");
var ioredis_1 = require("ioredis");
var contracts_1 = require("@outlet/contracts");
/**
 * Hands features to this node's branch queue: the feature as a binary Redis value with a TTL,
 * the subjob as a small BullMQ job that points at it. Never across nodes.
 */
var BranchHandOff = /** @class */ (function () {
    function BranchHandOff(settings, 
    /** This node's branch queue (registered with BullModule; its name holds the NODE_ID). */
    queue) {
        this.settings = settings;
        this.queue = queue;
        this.logger = new common_1.Logger(BranchHandOff.name);
        this.redis = new ioredis_1.default(settings.redisUrl, { maxRetriesPerRequest: null });
    }
    /**
     * Store the feature (one Redis round trip), then add the subjob without waiting for it: the
     * trunk goes on at once. A failure is logged; the final exit still answers.
     */
    BranchHandOff.prototype.send = function (taskId, model, exitIndex, feature, threshold) {
        return __awaiter(this, void 0, void 0, function () {
            var key, data, warn, err_1;
            var _this = this;
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0:
                        key = (0, contracts_1.featureKey)(taskId, exitIndex);
                        data = {
                            taskId: taskId,
                            model: model,
                            exitIndex: exitIndex,
                            featureKey: key,
                            featureShape: feature.dims,
                            threshold: threshold,
                            trunkNodeId: this.settings.nodeId,
                            handedOffAt: (0, contracts_1.nowMs)(),
                        };
                        warn = function (err) { return _this.logger.warn("hand-off of ".concat(taskId, " exit ").concat(exitIndex, " failed: ").concat(err.message)); };
                        _a.label = 1;
                    case 1:
                        _a.trys.push([1, 3, , 4]);
                        return [4 /*yield*/, this.redis.set(key, (0, contracts_1.float32ToBuffer)(feature.data), 'PX', contracts_1.HANDOFF_TTL_MS)];
                    case 2:
                        _a.sent();
                        return [3 /*break*/, 4];
                    case 3:
                        err_1 = _a.sent();
                        return [2 /*return*/, warn(err_1)];
                    case 4:
                        // The job is written to Redis on the trunk's next turn of the event loop (before its next segment).
                        this.queue
                            .add(contracts_1.JobName.ExitHead, data, {
                            removeOnComplete: { count: this.settings.jobRetention },
                            removeOnFail: { count: this.settings.jobRetention },
                        })
                            .catch(warn);
                        return [2 /*return*/];
                }
            });
        });
    };
    /** Mark a task answered: its branch subjobs still queued are dropped, not run. */
    BranchHandOff.prototype.markDone = function (taskId) {
        this.redis.set((0, contracts_1.taskDoneKey)(taskId), '1', 'PX', contracts_1.HANDOFF_TTL_MS).catch(function () { return undefined; });
    };
    BranchHandOff.prototype.onApplicationShutdown = function () {
        return __awaiter(this, void 0, void 0, function () {
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0: return [4 /*yield*/, this.redis.quit().catch(function () { return undefined; })];
                    case 1:
                        _a.sent();
                        return [2 /*return*/];
                }
            });
        });
    };
    return BranchHandOff;
}());
exports.BranchHandOff = BranchHandOff;
