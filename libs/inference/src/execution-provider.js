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
Object.defineProperty(exports, "__esModule", { value: true });
exports.AUTO_EP_ORDER = void 0;
exports.sessionOptions = sessionOptions;
exports.resolveExecutionProvider = resolveExecutionProvider;
var ort = require("onnxruntime-node");
/** Execution providers Outlet knows, in the order `auto` tries them. */
exports.AUTO_EP_ORDER = ['cuda', 'webgpu', 'cpu'];
function sessionOptions(ep, threads) {
    return {
        executionProviders: [ep],
        // An explicit budget: trunk and branch share the node's cores and must not oversubscribe them.
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
    };
}
/**
 * Open a session on the requested provider; `auto` takes the first of cuda, webgpu, cpu that
 * opens `probeFile` and runs, and `onChoice` hears which (and why the others failed).
 */
function resolveExecutionProvider(requested_1, probeFile_1, threads_1) {
    return __awaiter(this, arguments, void 0, function (requested, probeFile, threads, onChoice) {
        var session, err_1, failures, _i, AUTO_EP_ORDER_1, ep, session, err_2;
        if (onChoice === void 0) { onChoice = function () { return undefined; }; }
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0:
                    if (!(requested !== 'auto')) return [3 /*break*/, 6];
                    _a.label = 1;
                case 1:
                    _a.trys.push([1, 4, , 5]);
                    return [4 /*yield*/, ort.InferenceSession.create(probeFile, sessionOptions(requested, threads))];
                case 2:
                    session = _a.sent();
                    return [4 /*yield*/, session.release()];
                case 3:
                    _a.sent();
                    return [3 /*break*/, 5];
                case 4:
                    err_1 = _a.sent();
                    throw new Error("execution provider '".concat(requested, "' does not work here: ").concat(err_1.message.split('\n')[0]));
                case 5:
                    onChoice("execution provider '".concat(requested, "' (requested)"));
                    return [2 /*return*/, requested];
                case 6:
                    failures = [];
                    // The providers that are missing log errors from native code; their failures are reported below.
                    ort.env.logLevel = 'fatal';
                    _i = 0, AUTO_EP_ORDER_1 = exports.AUTO_EP_ORDER;
                    _a.label = 7;
                case 7:
                    if (!(_i < AUTO_EP_ORDER_1.length)) return [3 /*break*/, 13];
                    ep = AUTO_EP_ORDER_1[_i];
                    _a.label = 8;
                case 8:
                    _a.trys.push([8, 11, , 12]);
                    return [4 /*yield*/, ort.InferenceSession.create(probeFile, __assign(__assign({}, sessionOptions(ep, threads)), { logSeverityLevel: 4 }))];
                case 9:
                    session = _a.sent();
                    return [4 /*yield*/, session.release()];
                case 10:
                    _a.sent();
                    onChoice("execution provider '".concat(ep, "' chosen by auto").concat(failures.length ? " (".concat(failures.join('; '), ")") : ''));
                    return [2 /*return*/, ep];
                case 11:
                    err_2 = _a.sent();
                    failures.push("".concat(ep, ": ").concat(err_2.message.split('\n')[0]));
                    return [3 /*break*/, 12];
                case 12:
                    _i++;
                    return [3 /*break*/, 7];
                case 13: throw new Error("no execution provider works: ".concat(failures.join('; ')));
            }
        });
    });
}
