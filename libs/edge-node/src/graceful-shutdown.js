"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.closeOnSignals = closeOnSignals;
var common_1 = require("@nestjs/common");
/**
 * On SIGTERM or SIGINT: close the Nest application (workers stop taking jobs and finish the ones
 * in flight, connections close), then exit 0. Nest's own shutdown hooks re-raise the signal, which
 * makes a clean stop look like a kill to a supervisor.
 */
function closeOnSignals(app, name) {
    var closing = false;
    var close = function (signal) {
        if (closing)
            return;
        closing = true;
        new common_1.Logger(name).log("".concat(signal, ": finishing in-flight work and closing"));
        app.close().then(function () { return process.exit(0); }, function (err) {
            console.error("".concat(name, ": shutdown failed: ").concat(err instanceof Error ? err.message : String(err)));
            process.exit(1);
        });
    };
    process.on('SIGTERM', close);
    process.on('SIGINT', close);
}
