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
exports.HOW_TO_GET_REDIS = void 0;
exports.findRedisServer = findRedisServer;
exports.startPrivateRedis = startPrivateRedis;
var node_child_process_1 = require("node:child_process");
var free_port_1 = require("./free-port");
var managed_process_1 = require("./managed-process");
exports.HOW_TO_GET_REDIS = 'Outlet needs Redis 6.2 or newer. Either set REDIS_URL=redis://host:port, or install redis-server ' +
    '(Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis) and Outlet starts a private one.';
function findRedisServer() {
    try {
        return (0, node_child_process_1.execFileSync)('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || undefined;
    }
    catch (_a) {
        return undefined;
    }
}
/** A throwaway redis-server on a free loopback port, without persistence. */
function startPrivateRedis() {
    return __awaiter(this, arguments, void 0, function (options) {
        var binary, port, server;
        if (options === void 0) { options = {}; }
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0:
                    binary = findRedisServer();
                    if (!binary)
                        throw new Error(exports.HOW_TO_GET_REDIS);
                    return [4 /*yield*/, (0, free_port_1.freePort)()];
                case 1:
                    port = _a.sent();
                    server = new managed_process_1.ManagedProcess({
                        name: 'redis',
                        command: binary,
                        args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'notice'],
                        readyPattern: /Ready to accept connections/,
                        cpus: options.cpus,
                        onLine: options.quiet === false ? undefined : null,
                        readyTimeoutMs: 15000,
                    });
                    return [4 /*yield*/, server.ready];
                case 2:
                    _a.sent();
                    return [2 /*return*/, { url: "redis://127.0.0.1:".concat(port), port: port, server: server }];
            }
        });
    });
}
