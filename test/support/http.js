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
exports.get = exports.post = void 0;
exports.request = request;
exports.waitForJob = waitForJob;
function request(method_1, url_1, body_1) {
    return __awaiter(this, arguments, void 0, function (method, url, body, headers) {
        var init, res, text, parsed;
        if (headers === void 0) { headers = {}; }
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0:
                    init = { method: method, headers: __assign({}, headers) };
                    if (body !== undefined) {
                        init.body = typeof body === 'string' ? body : JSON.stringify(body);
                        init.headers['content-type'] = 'application/json';
                    }
                    return [4 /*yield*/, fetch(url, init)];
                case 1:
                    res = _a.sent();
                    return [4 /*yield*/, res.text()];
                case 2:
                    text = _a.sent();
                    parsed = text;
                    try {
                        parsed = JSON.parse(text);
                    }
                    catch (_b) {
                        // not JSON (e.g. the Bull Board page)
                    }
                    return [2 /*return*/, { status: res.status, body: parsed, headers: res.headers }];
            }
        });
    });
}
var post = function (url, body, headers) { return request('POST', url, body, headers); };
exports.post = post;
var get = function (url, headers) { return request('GET', url, undefined, headers); };
exports.get = get;
/** Poll an asynchronous job until it leaves the queue's waiting/active states. */
function waitForJob(baseUrl_1, id_1) {
    return __awaiter(this, arguments, void 0, function (baseUrl, id, timeoutMs) {
        var deadline, res;
        if (timeoutMs === void 0) { timeoutMs = 30000; }
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0:
                    deadline = Date.now() + timeoutMs;
                    _a.label = 1;
                case 1: return [4 /*yield*/, (0, exports.get)("".concat(baseUrl, "/v1/jobs/").concat(id))];
                case 2:
                    res = _a.sent();
                    if (res.status !== 200)
                        throw new Error("GET /v1/jobs/".concat(id, " answered ").concat(res.status, ": ").concat(JSON.stringify(res.body)));
                    if (res.body.state === 'completed' || res.body.state === 'failed')
                        return [2 /*return*/, res.body];
                    if (Date.now() > deadline)
                        throw new Error("job ".concat(id, " still ").concat(res.body.state, " after ").concat(timeoutMs, " ms"));
                    return [4 /*yield*/, new Promise(function (r) { return setTimeout(r, 20); })];
                case 3:
                    _a.sent();
                    _a.label = 4;
                case 4: return [3 /*break*/, 1];
                case 5: return [2 /*return*/];
            }
        });
    });
}
