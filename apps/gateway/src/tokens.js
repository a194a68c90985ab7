"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.GATEWAY_SETTINGS = void 0;
exports.GATEWAY_SETTINGS = Symbol('GATEWAY_SETTINGS');
