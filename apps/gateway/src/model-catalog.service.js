"use strict";
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
exports.ModelCatalog = void 0;
var inference_request_1 = require("./inference-request");
/** The model packages this gateway accepts requests for (manifests only; no sessions). */
var ModelCatalog = /** @class */ (function () {
    function ModelCatalog(packages) {
        this.packages = packages;
    }
    ModelCatalog.prototype.names = function () {
        return __spreadArray([], this.packages.keys(), true);
    };
    ModelCatalog.prototype.get = function (name) {
        var pkg = this.packages.get(name);
        if (!pkg)
            throw new inference_request_1.RequestError(404, "unknown model '".concat(name, "'; served: ").concat(this.names().join(', ')));
        return pkg;
    };
    return ModelCatalog;
}());
exports.ModelCatalog = ModelCatalog;
