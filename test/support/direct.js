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
exports.FIXTURE_MODELS_DIR = exports.MODELS_DIR = exports.REPO_ROOT = exports.DirectModel = void 0;
var node_path_1 = require("node:path");
var inference_1 = require("@outlet/inference");
var model_package_1 = require("@outlet/model-package");
/** The reference: onnxruntime-node in this process, segments up to an exit, then that head. */
var DirectModel = /** @class */ (function () {
    function DirectModel(model) {
        this.model = model;
    }
    DirectModel.open = function (dir) {
        return __awaiter(this, void 0, void 0, function () {
            var _a;
            return __generator(this, function (_b) {
                switch (_b.label) {
                    case 0:
                        _a = DirectModel.bind;
                        return [4 /*yield*/, inference_1.MultiExitModel.load((0, model_package_1.loadModelPackage)(dir), 'cpu', 1)];
                    case 1: return [2 /*return*/, new (_a.apply(DirectModel, [void 0, _b.sent()]))()];
                }
            });
        });
    };
    /** Probabilities of every exit for one input. */
    DirectModel.prototype.allExits = function (pixels) {
        return __awaiter(this, void 0, void 0, function () {
            var m, feature, out, s, exit, _a, _b;
            return __generator(this, function (_c) {
                switch (_c.label) {
                    case 0:
                        m = this.model.manifest;
                        feature = { data: Float32Array.from(pixels), dims: __spreadArray([1], m.input.shape.slice(1), true) };
                        out = [];
                        s = 0;
                        _c.label = 1;
                    case 1:
                        if (!(s < m.segments.length)) return [3 /*break*/, 5];
                        return [4 /*yield*/, this.model.runSegment(s, feature)];
                    case 2:
                        feature = _c.sent();
                        exit = this.model.exitAfterSegment(s);
                        if (!(exit !== undefined)) return [3 /*break*/, 4];
                        _b = (_a = out).push;
                        return [4 /*yield*/, this.model.runExit(exit, feature)];
                    case 3:
                        _b.apply(_a, [_c.sent()]);
                        _c.label = 4;
                    case 4:
                        s++;
                        return [3 /*break*/, 1];
                    case 5: return [2 /*return*/, out];
                }
            });
        });
    };
    DirectModel.prototype.release = function () {
        return this.model.release();
    };
    return DirectModel;
}());
exports.DirectModel = DirectModel;
exports.REPO_ROOT = (0, node_path_1.join)(__dirname, '..', '..', '..');
exports.MODELS_DIR = (0, node_path_1.join)(exports.REPO_ROOT, 'models');
exports.FIXTURE_MODELS_DIR = (0, node_path_1.join)(exports.REPO_ROOT, 'test', 'fixtures', 'models');
