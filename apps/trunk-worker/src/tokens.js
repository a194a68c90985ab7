"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.TRUNK_MODELS = exports.TRUNK_SETTINGS = void 0;
exports.TRUNK_SETTINGS = Symbol('TRUNK_SETTINGS');
exports.TRUNK_MODELS = Symbol('TRUNK_MODELS');
