"use strict";
var __assign = (this && this.__assign) || function () {
    __assign = Object.assign || function(t) {
        for (var s, i = 1, n = arguments.length; i < n; i++) {
            s = arguments[i];
            for (var p in s) if (Object.prototype.hasOwnProperty.call(s, p))
                t[p] = s[p];
        }
        return t;
    };
    return __assign.apply(this, arguments);
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
exports.OutletSystem = void 0;
exports.appEntry = appEntry;
var node_path_1 = require("node:path");
var managed_process_1 = require("./managed-process");
var redis_server_1 = require("./redis-server");
var free_port_1 = require("./free-port");
/** The compiled entry point of an app (dist/apps/<app>/src/main.js). */
function appEntry(app) {
    return (0, node_path_1.resolve)(__dirname, '..', '..', '..', 'apps', app, 'src', 'main.js');
}
/** A whole Outlet system of separate processes: Redis (maybe private), a gateway and nodes. */
var OutletSystem = /** @class */ (function () {
    function OutletSystem(redisUrl, baseUrl, gateway, nodes, redis, spec) {
        this.redisUrl = redisUrl;
        this.baseUrl = baseUrl;
        this.gateway = gateway;
        this.nodes = nodes;
        this.redis = redis;
        this.spec = spec;
    }
    OutletSystem.start = function (spec) {
        return __awaiter(this, void 0, void 0, function () {
            var privateRedis, _a, redisUrl, port, _b, started, nodes, gateway, err_1;
            var _c;
            return __generator(this, function (_d) {
                switch (_d.label) {
                    case 0:
                        if (!spec.redisUrl) return [3 /*break*/, 1];
                        _a = undefined;
                        return [3 /*break*/, 3];
                    case 1: return [4 /*yield*/, (0, redis_server_1.startPrivateRedis)()];
                    case 2:
                        _a = _d.sent();
                        _d.label = 3;
                    case 3:
                        privateRedis = _a;
                        redisUrl = (_c = spec.redisUrl) !== null && _c !== void 0 ? _c : privateRedis.url;
                        _b = spec.port;
                        if (_b) return [3 /*break*/, 5];
                        return [4 /*yield*/, (0, free_port_1.freePort)()];
                    case 4:
                        _b = (_d.sent());
                        _d.label = 5;
                    case 5:
                        port = _b;
                        started = privateRedis ? [privateRedis.server] : [];
                        _d.label = 6;
                    case 6:
                        _d.trys.push([6, 8, , 10]);
                        nodes = spec.nodes.map(function (n) { return OutletSystem.spawnNode(spec, redisUrl, n); });
                        started.push.apply(started, nodes.flatMap(function (n) { return [n.trunk, n.branch]; }));
                        gateway = new managed_process_1.ManagedProcess({
                            name: 'gateway',
                            command: process.execPath,
                            args: [appEntry('gateway')],
                            env: __assign(__assign(__assign({}, spec.env), spec.gatewayEnv), { REDIS_URL: redisUrl, PORT: String(port) }),
                            readyPattern: /serving .* API http/,
                            cpus: spec.gatewayCpus,
                            onLine: spec.quiet ? null : undefined,
                        });
                        started.push(gateway);
                        return [4 /*yield*/, Promise.all(__spreadArray([gateway.ready], nodes.flatMap(function (n) { return [n.trunk.ready, n.branch.ready]; }), true))];
                    case 7:
                        _d.sent();
                        return [2 /*return*/, new OutletSystem(redisUrl, "http://127.0.0.1:".concat(port), gateway, nodes, privateRedis === null || privateRedis === void 0 ? void 0 : privateRedis.server, spec)];
                    case 8:
                        err_1 = _d.sent();
                        return [4 /*yield*/, Promise.all(started.reverse().map(function (p) { return p.stop('SIGTERM', 5000); }))];
                    case 9:
                        _d.sent();
                        throw err_1;
                    case 10: return [2 /*return*/];
                }
            });
        });
    };
    OutletSystem.spawnNode = function (spec, redisUrl, node) {
        return {
            nodeId: node.nodeId,
            trunk: OutletSystem.spawnWorker(spec, redisUrl, node, 'trunk'),
            branch: OutletSystem.spawnWorker(spec, redisUrl, node, 'branch'),
        };
    };
    OutletSystem.spawnWorker = function (spec, redisUrl, node, role) {
        return new managed_process_1.ManagedProcess({
            name: "".concat(role, ":").concat(node.nodeId),
            command: process.execPath,
            args: [appEntry(role === 'trunk' ? 'trunk-worker' : 'branch-worker')],
            env: __assign(__assign(__assign(__assign({}, spec.env), node.env), (role === 'trunk' ? node.trunkEnv : node.branchEnv)), { REDIS_URL: redisUrl, NODE_ID: node.nodeId }),
            readyPattern: /node .* ready/,
            cpus: role === 'trunk' ? node.trunkCpus : node.branchCpus,
            onLine: spec.quiet ? null : undefined,
        });
    };
    /** Start a fresh trunk worker for a node (e.g. to replace one that was stopped). */
    OutletSystem.prototype.restartTrunk = function (nodeId) {
        return __awaiter(this, void 0, void 0, function () {
            var spec, running, trunk;
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0:
                        spec = this.spec.nodes.find(function (n) { return n.nodeId === nodeId; });
                        running = this.nodes.find(function (n) { return n.nodeId === nodeId; });
                        if (!spec || !running)
                            throw new Error("unknown node ".concat(nodeId));
                        trunk = OutletSystem.spawnWorker(this.spec, this.redisUrl, spec, 'trunk');
                        return [4 /*yield*/, trunk.ready];
                    case 1:
                        _a.sent();
                        running.trunk = trunk;
                        return [2 /*return*/, trunk];
                }
            });
        });
    };
    OutletSystem.prototype.processes = function () {
        return __spreadArray([this.gateway], this.nodes.flatMap(function (n) { return [n.trunk, n.branch]; }), true);
    };
    /** SIGTERM to every process (gateway first, then workers, Redis last) and wait for them. */
    OutletSystem.prototype.stop = function () {
        return __awaiter(this, void 0, void 0, function () {
            var _a;
            return __generator(this, function (_b) {
                switch (_b.label) {
                    case 0: return [4 /*yield*/, this.gateway.stop()];
                    case 1:
                        _b.sent();
                        return [4 /*yield*/, Promise.all(this.nodes.flatMap(function (n) { return [n.trunk.stop(), n.branch.stop()]; }))];
                    case 2:
                        _b.sent();
                        return [4 /*yield*/, ((_a = this.redis) === null || _a === void 0 ? void 0 : _a.stop())];
                    case 3:
                        _b.sent();
                        return [2 /*return*/];
                }
            });
        });
    };
    return OutletSystem;
}());
exports.OutletSystem = OutletSystem;
