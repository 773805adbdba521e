import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { AggregationProgress } from '../contract/aggregation';

/** Live progress of an aggregation run (parent) or of one chunk child. */
export const progressQuery = defineQuery<AggregationProgress>('progress');

/** A chunk child's progress, sent to its parent so the parent's `progress` query stays live. */
export interface ChunkProgress extends AggregationProgress {
  chunkIndex: number;
}

export const chunkProgressSignal = defineSignal<[ChunkProgress]>('chunkProgress');
