"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.freePort = freePort;
var node_net_1 = require("node:net");
/** A TCP port free on loopback right now (the OS picks it). */
function freePort() {
    return new Promise(function (resolve, reject) {
        var server = (0, node_net_1.createServer)();
        server.unref();
        server.on('error', reject);
        server.listen(0, '127.0.0.1', function () {
            var port = server.address().port;
            server.close(function () { return resolve(port); });
        });
    });
}
