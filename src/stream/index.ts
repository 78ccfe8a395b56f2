export { alignToStep, type AlignToStepOptions } from './alignToStep.ts';
export { batchWhileBusy, type BatchWhileBusyOptions } from './batchWhileBusy.ts';
export { keyByEntity, type KeyByEntityOptions } from './keyByEntity.ts';
export { orderByEventTime, type OrderByEventTimeOptions } from './orderByEventTime.ts';
export { slidingWindows, type SlidingWindowsOptions } from './slidingWindows.ts';
export { windowsByEntity, type WindowsByEntityHooks } from './windowsByEntity.ts';
