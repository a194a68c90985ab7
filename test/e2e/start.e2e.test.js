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
var node_test_1 = require("node:test");
var strict_1 = require("node:assert/strict");
var node_child_process_1 = require("node:child_process");
var supervisor_1 = require("@outlet/supervisor");
var digits_1 = require("../support/digits");
var direct_1 = require("../support/direct");
var http_1 = require("../support/http");
var outlet = function (args, env) {
    return (0, node_child_process_1.spawnSync)(process.execPath, __spreadArray([(0, supervisor_1.appEntry)('cli')], args, true), { env: __assign(__assign({}, process.env), env), encoding: 'utf8', timeout: 30000 });
};
(0, node_test_1.test)('`outlet start` without REDIS_URL and without redis-server says how to get Redis', function () {
    var env = __assign(__assign({}, process.env), { PATH: '/nonexistent', REDIS_URL: '' });
    var res = (0, node_child_process_1.spawnSync)(process.execPath, [(0, supervisor_1.appEntry)('cli'), 'start'], { env: env, encoding: 'utf8', timeout: 30000 });
    strict_1.default.equal(res.status, 1);
    strict_1.default.match(res.stderr, /REDIS_URL is not set and redis-server is not installed.*apt-get install -y redis-server/s);
});
(0, node_test_1.test)('`outlet start` refuses a bad setting by name', function () {
    var res = outlet(['start'], { PORT: 'http' });
    strict_1.default.equal(res.status, 1);
    strict_1.default.match(res.stderr, /PORT='http' must be an integer/);
    var unreachable = outlet(['start'], { REDIS_URL: 'redis://127.0.0.1:1' });
    strict_1.default.equal(unreachable.status, 1);
    strict_1.default.match(unreachable.stderr, /REDIS_URL=redis:\/\/127.0.0.1:1 does not answer/);
});
(0, node_test_1.test)('`outlet start` runs the whole system on a private Redis; SIGINT stops every process', function () { return __awaiter(void 0, void 0, void 0, function () {
    var port, start, res, printed, children, _a, _b, _loop_1, _i, children_1, pid;
    return __generator(this, function (_c) {
        switch (_c.label) {
            case 0: return [4 /*yield*/, (0, supervisor_1.freePort)()];
            case 1:
                port = _c.sent();
                start = new supervisor_1.ManagedProcess({
                    name: 'outlet-start',
                    command: process.execPath,
                    args: [(0, supervisor_1.appEntry)('cli'), 'start'],
                    env: { PORT: String(port), REDIS_URL: '', NODE_ID: 'quickstart', OUTLET_MODELS_DIR: direct_1.MODELS_DIR },
                    readyPattern: /outlet: ready/,
                    onLine: null,
                });
                return [4 /*yield*/, start.ready];
            case 2:
                _c.sent();
                return [4 /*yield*/, (0, http_1.post)("http://127.0.0.1:".concat(port, "/v2/models/branchy-mnist/infer"), (0, digits_1.inferBody)((0, digits_1.heldOutDigit)(7, 0)))];
            case 3:
                res = _c.sent();
                strict_1.default.equal(res.status, 200);
                strict_1.default.equal(res.body.parameters.label, '7');
                strict_1.default.equal(res.body.parameters.node_id, 'quickstart');
                printed = start.lines().join('\n');
                strict_1.default.match(printed, new RegExp("API +http://localhost:".concat(port, "/v2/models/")));
                strict_1.default.match(printed, /Bull Board +off/);
                children = (0, node_child_process_1.execFileSync)('pgrep', ['-P', String(start.pid)], { encoding: 'utf8' }).trim().split('\n');
                strict_1.default.equal(children.length, 4, 'redis, gateway, trunk and branch');
                _b = (_a = strict_1.default).equal;
                return [4 /*yield*/, start.stop('SIGINT')];
            case 4:
                _b.apply(_a, [_c.sent(), 0]);
                _loop_1 = function (pid) {
                    strict_1.default.throws(function () { return process.kill(Number(pid), 0); }, /ESRCH/, "process ".concat(pid, " still runs"));
                };
                for (_i = 0, children_1 = children; _i < children_1.length; _i++) {
                    pid = children_1[_i];
                    _loop_1(pid);
                }
                return [2 /*return*/];
        }
    });
}); });
