"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
var node_test_1 = require("node:test");
var strict_1 = require("node:assert/strict");
var edge_node_1 = require("@outlet/edge-node");
(0, node_test_1.test)('/proc/stat lines are read as busy and total jiffies', function () {
    var t = (0, edge_node_1.readCpuTimes)('cpu  100 10 50 800 40 0 0 0 0 0\ncpu0 1 2 3 4');
    strict_1.default.deepEqual(t, { busy: 160, total: 1000 });
});
(0, node_test_1.test)('utilization is the busy share of the time between readings, clamped', function () {
    strict_1.default.equal((0, edge_node_1.utilizationBetween)({ busy: 100, total: 1000 }, { busy: 150, total: 1100 }), 0.5);
    strict_1.default.equal((0, edge_node_1.utilizationBetween)({ busy: 100, total: 1000 }, { busy: 100, total: 1000 }), 0);
});
(0, node_test_1.test)('the monitor reads the real /proc/stat', function () {
    var monitor = new edge_node_1.CpuMonitor();
    var u = monitor.sample() + monitor.sample();
    strict_1.default.ok(u >= 0 && u <= 2);
});
