"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.BRANCH_MODELS = exports.BRANCH_SETTINGS = void 0;
exports.BRANCH_SETTINGS = Symbol('BRANCH_SETTINGS');
exports.BRANCH_MODELS = Symbol('BRANCH_MODELS');
