"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
var node_test_1 = require("node:test");
var strict_1 = require("node:assert/strict");
var config_1 = require("@outlet/config");
(0, node_test_1.test)('defaults are sane', function () {
    var g = (0, config_1.readGatewaySettings)({});
    strict_1.default.equal(g.port, 3000);
    strict_1.default.equal(g.redisUrl, 'redis://127.0.0.1:6379');
    strict_1.default.equal(g.defaultPlan, 'parallel');
    strict_1.default.equal(g.admin, undefined);
    var t = (0, config_1.readTrunkSettings)({ NODE_ID: 'edge-1' });
    strict_1.default.equal(t.trunkEp, 'auto');
    strict_1.default.equal(t.threads, 1);
    strict_1.default.equal((0, config_1.readBranchSettings)({ NODE_ID: 'edge-1' }).nodeId, 'edge-1');
});
(0, node_test_1.test)('a bad value stops start-up with the variable named', function () {
    var cases = [
        [{ PORT: 'eighty' }, /PORT='eighty' must be an integer/],
        [{ REDIS_URL: 'http://x' }, /REDIS_URL='http:\/\/x' must start with redis:\/\//],
        [{ OUTLET_BODY_LIMIT: 'lots' }, /OUTLET_BODY_LIMIT='lots'/],
        [{ OUTLET_ADMIN_USER: 'admin' }, /OUTLET_ADMIN_USER and OUTLET_ADMIN_PASSWORD must be set together/],
    ];
    var _loop_1 = function (env, message) {
        strict_1.default.throws(function () { return (0, config_1.readGatewaySettings)(env); }, function (e) { return e instanceof config_1.ConfigError && message.test(e.message); });
    };
    for (var _i = 0, cases_1 = cases; _i < cases_1.length; _i++) {
        var _a = cases_1[_i], env = _a[0], message = _a[1];
        _loop_1(env, message);
    }
    strict_1.default.throws(function () { return (0, config_1.readTrunkSettings)({ OUTLET_TRUNK_EP: 'tpu' }); }, /OUTLET_TRUNK_EP='tpu' must be one of: auto, cuda, webgpu, cpu/);
    strict_1.default.throws(function () { return (0, config_1.readTrunkSettings)({ NODE_ID: 'a b' }); }, /NODE_ID='a b'/);
    strict_1.default.throws(function () { return (0, config_1.readBranchSettings)({ OUTLET_BRANCH_THREADS: '0' }); }, /OUTLET_BRANCH_THREADS='0' must be an integer from 1/);
});
