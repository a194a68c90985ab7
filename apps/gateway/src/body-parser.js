"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.jsonBody = jsonBody;
var express_1 = require("express");
/** JSON bodies up to `limit`; parse errors and oversize bodies answer `{"error"}` themselves. */
function jsonBody(limit) {
    var parse = (0, express_1.json)({ limit: limit });
    return function (req, res, next) {
        return parse(req, res, function (err) {
            if (!err)
                return next();
            if (err.type === 'entity.too.large') {
                return res.status(413).json({ error: "request body is larger than the limit of ".concat(limit, " (OUTLET_BODY_LIMIT)") });
            }
            return res.status(400).json({ error: "malformed JSON body: ".concat(err.message) });
        });
    };
}
