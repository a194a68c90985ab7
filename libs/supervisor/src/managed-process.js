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
exports.ManagedProcess = void 0;
var node_child_process_1 = require("node:child_process");
var node_readline_1 = require("node:readline");
/** A child process we started: ready when it says so, stopped with SIGTERM. */
var ManagedProcess = /** @class */ (function () {
    function ManagedProcess(spec) {
        var _this = this;
        var _a;
        this.spec = spec;
        this.recentLines = [];
        var _b = spec.cpus ? ['taskset', __spreadArray(['-c', spec.cpus, spec.command], spec.args, true)] : [spec.command, spec.args], command = _b[0], args = _b[1];
        this.child = (0, node_child_process_1.spawn)(command, args, {
            env: __assign(__assign({}, process.env), spec.env),
            stdio: ['ignore', 'pipe', 'pipe'],
            // Its own process group: Ctrl-C reaches only the supervisor, which stops children in order
            // (workers before Redis) instead of all at once.
            detached: true,
        });
        ManagedProcess.live.add(this);
        this.child.on('exit', function () { return ManagedProcess.live.delete(_this); });
        var print = spec.onLine === undefined ? function (line) { return process.stdout.write("[".concat(spec.name, "] ").concat(line, "\n")); } : spec.onLine;
        var markReady;
        var failReady;
        this.ready = new Promise(function (resolve, reject) {
            markReady = resolve;
            failReady = reject;
        });
        this.ready.catch(function () { return undefined; });
        var timer = setTimeout(function () { var _a; return failReady(new Error("".concat(spec.name, " was not ready after ").concat((_a = spec.readyTimeoutMs) !== null && _a !== void 0 ? _a : 60000, " ms:\n").concat(_this.recentLines.join('\n')))); }, (_a = spec.readyTimeoutMs) !== null && _a !== void 0 ? _a : 60000);
        for (var _i = 0, _c = [this.child.stdout, this.child.stderr]; _i < _c.length; _i++) {
            var stream = _c[_i];
            (0, node_readline_1.createInterface)({ input: stream }).on('line', function (line) {
                _this.recentLines.push(line);
                if (_this.recentLines.length > 40)
                    _this.recentLines.shift();
                print === null || print === void 0 ? void 0 : print(line);
                if (spec.readyPattern.test(line)) {
                    clearTimeout(timer);
                    markReady();
                }
            });
        }
        this.exited = new Promise(function (resolve) {
            _this.child.on('exit', function (code, signal) {
                clearTimeout(timer);
                failReady(new Error("".concat(spec.name, " exited (").concat(signal !== null && signal !== void 0 ? signal : code, ") before it was ready:\n").concat(_this.recentLines.join('\n'))));
                resolve(code);
            });
            _this.child.on('error', function (err) {
                clearTimeout(timer);
                failReady(new Error("".concat(spec.name, " could not start: ").concat(err.message)));
                resolve(null);
            });
        });
    }
    Object.defineProperty(ManagedProcess.prototype, "pid", {
        get: function () {
            return this.child.pid;
        },
        enumerable: false,
        configurable: true
    });
    Object.defineProperty(ManagedProcess.prototype, "running", {
        get: function () {
            return this.child.exitCode === null && this.child.signalCode === null;
        },
        enumerable: false,
        configurable: true
    });
    /** The last lines it printed (for error messages). */
    ManagedProcess.prototype.lines = function () {
        return __spreadArray([], this.recentLines, true);
    };
    /** Send `signal` and wait for the exit; SIGKILL after `graceMs`. */
    ManagedProcess.prototype.stop = function () {
        return __awaiter(this, arguments, void 0, function (signal, graceMs) {
            var kill, code;
            var _this = this;
            if (signal === void 0) { signal = 'SIGTERM'; }
            if (graceMs === void 0) { graceMs = 15000; }
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0:
                        if (!this.running)
                            return [2 /*return*/, this.child.exitCode];
                        this.child.kill(signal);
                        kill = setTimeout(function () { return _this.child.kill('SIGKILL'); }, graceMs);
                        return [4 /*yield*/, this.exited];
                    case 1:
                        code = _a.sent();
                        clearTimeout(kill);
                        return [2 /*return*/, code];
                }
            });
        });
    };
    ManagedProcess.live = new Set();
    (function () {
        // If the supervisor itself dies, take the children with it.
        process.on('exit', function () { return ManagedProcess.live.forEach(function (p) { return p.child.kill('SIGKILL'); }); });
    })();
    return ManagedProcess;
}());
exports.ManagedProcess = ManagedProcess;
