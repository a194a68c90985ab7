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
exports.AdminBoardModule = exports.BranchQueueSync = exports.ADMIN_ROUTE = void 0;
var common_1 = require("@nestjs/common");
var nestjs_1 = require("@bull-board/nestjs");
var bullMQAdapter_1 = require("@bull-board/api/bullMQAdapter");
var express_1 = require("@bull-board/express");
var bullmq_1 = require("bullmq");
var express_basic_auth_1 = require("express-basic-auth");
var config_1 = require("@outlet/config");
var contracts_1 = require("@outlet/contracts");
exports.ADMIN_ROUTE = '/admin/queues';
/**
 * Adds each node's branch queue to the board as nodes appear. Nodes join at any time, so the
 * board asks before every page or API call rather than on a timer.
 */
var BranchQueueSync = function () {
    var _classDecorators = [(0, common_1.Injectable)()];
    var _classDescriptor;
    var _classExtraInitializers = [];
    var _classThis;
    var BranchQueueSync = _classThis = /** @class */ (function () {
        function BranchQueueSync_1(board, nodes, settings) {
            this.board = board;
            this.nodes = nodes;
            this.settings = settings;
            this.queues = new Map();
        }
        BranchQueueSync_1.prototype.onModuleInit = function () {
            BranchQueueSync.current = this;
        };
        BranchQueueSync_1.prototype.sync = function () {
            return __awaiter(this, void 0, void 0, function () {
                var _i, _a, node, name_1, queue;
                return __generator(this, function (_b) {
                    switch (_b.label) {
                        case 0:
                            _i = 0;
                            return [4 /*yield*/, this.nodes.liveNodes()];
                        case 1:
                            _a = _b.sent();
                            _b.label = 2;
                        case 2:
                            if (!(_i < _a.length)) return [3 /*break*/, 4];
                            node = _a[_i];
                            name_1 = (0, contracts_1.branchQueueName)(node.nodeId);
                            if (this.queues.has(name_1))
                                return [3 /*break*/, 3];
                            queue = new bullmq_1.Queue(name_1, { connection: (0, config_1.bullConnection)(this.settings.redisUrl) });
                            this.queues.set(name_1, queue);
                            this.board.addQueue(new bullMQAdapter_1.BullMQAdapter(queue, { readOnlyMode: false }));
                            _b.label = 3;
                        case 3:
                            _i++;
                            return [3 /*break*/, 2];
                        case 4: return [2 /*return*/];
                    }
                });
            });
        };
        BranchQueueSync_1.prototype.onApplicationShutdown = function () {
            return __awaiter(this, void 0, void 0, function () {
                return __generator(this, function (_a) {
                    switch (_a.label) {
                        case 0: return [4 /*yield*/, Promise.all(__spreadArray([], this.queues.values(), true).map(function (q) { return q.close(); }))];
                        case 1:
                            _a.sent();
                            return [2 /*return*/];
                    }
                });
            });
        };
        return BranchQueueSync_1;
    }());
    __setFunctionName(_classThis, "BranchQueueSync");
    (function () {
        var _metadata = typeof Symbol === "function" && Symbol.metadata ? Object.create(null) : void 0;
        __esDecorate(null, _classDescriptor = { value: _classThis }, _classDecorators, { kind: "class", name: _classThis.name, metadata: _metadata }, null, _classExtraInitializers);
        BranchQueueSync = _classThis = _classDescriptor.value;
        if (_metadata) Object.defineProperty(_classThis, Symbol.metadata, { enumerable: true, configurable: true, writable: true, value: _metadata });
        __runInitializers(_classThis, _classExtraInitializers);
    })();
    return BranchQueueSync = _classThis;
}();
exports.BranchQueueSync = BranchQueueSync;
function boardMiddleware(admin) {
    var _a;
    var auth = (0, express_basic_auth_1.default)({ users: (_a = {}, _a[admin.user] = admin.password, _a), challenge: true, realm: 'outlet-admin' });
    return function (req, res, next) {
        return auth(req, res, function () {
            var _a, _b;
            var sync = (_b = (_a = BranchQueueSync.current) === null || _a === void 0 ? void 0 : _a.sync()) !== null && _b !== void 0 ? _b : Promise.resolve();
            sync.then(function () { return next(); }, next);
        });
    };
}
/** Bull Board at /admin/queues behind HTTP basic auth; absent (404) when no credentials are set. */
var AdminBoardModule = function () {
    var _classDecorators = [(0, common_1.Module)({})];
    var _classDescriptor;
    var _classExtraInitializers = [];
    var _classThis;
    var AdminBoardModule = _classThis = /** @class */ (function () {
        function AdminBoardModule_1() {
        }
        AdminBoardModule_1.forRoot = function (settings, models) {
            if (!settings.admin)
                return { module: AdminBoardModule };
            return {
                module: AdminBoardModule,
                imports: __spreadArray([
                    nestjs_1.BullBoardModule.forRoot({ route: exports.ADMIN_ROUTE, adapter: express_1.ExpressAdapter, middleware: boardMiddleware(settings.admin) })
                ], models.map(function (m) { return nestjs_1.BullBoardModule.forFeature({ name: (0, contracts_1.inferQueueName)(m), adapter: bullMQAdapter_1.BullMQAdapter }); }), true),
                providers: [BranchQueueSync],
            };
        };
        return AdminBoardModule_1;
    }());
    __setFunctionName(_classThis, "AdminBoardModule");
    (function () {
        var _metadata = typeof Symbol === "function" && Symbol.metadata ? Object.create(null) : void 0;
        __esDecorate(null, _classDescriptor = { value: _classThis }, _classDecorators, { kind: "class", name: _classThis.name, metadata: _metadata }, null, _classExtraInitializers);
        AdminBoardModule = _classThis = _classDescriptor.value;
        if (_metadata) Object.defineProperty(_classThis, Symbol.metadata, { enumerable: true, configurable: true, writable: true, value: _metadata });
        __runInitializers(_classThis, _classExtraInitializers);
    })();
    return AdminBoardModule = _classThis;
}();
exports.AdminBoardModule = AdminBoardModule;
