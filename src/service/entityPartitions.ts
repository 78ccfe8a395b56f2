/**
 * Which partition each entity's readings come from, so that the service can forget the entities
 * of a partition taken away in a rebalance (their detector state, saved snapshots and models).
 *
 * A note lives as long as the entity's stream buffer: when the buffer goes (the entity was idle
 * for `stream.entityIdleMs`, or evicted), so does the note, so a stream of ever-new entity ids
 * costs nothing once they expire. An entity that has had a window keeps its note after its buffer
 * goes, because it now has detector state, and that state must still be forgotten if the
 * partition is revoked; the note goes with it (`takeOf`).
 *
 * @example
 *   const notes = createEntityPartitions();
 *   notes.read('pump-1', { topic: 'telemetry', partition: 0 });
 *   notes.ended('pump-1'); // idle, never windowed: forgotten
 *   notes.takeOf([{ topic: 'telemetry', partition: 0 }]); // []
 */
import type { PartitionRef } from '../ingest/flowControl.ts';

export interface EntityPartitions {
  /** A reading of the entity, read from `from`. */
  read(entityId: string, from: PartitionRef): void;
  /** A window of the entity goes to the scorer: the entity will have detector state. */
  windowed(entityId: string): void;
  /** The entity's stream buffer is gone (idle, evicted, or the stream ended). */
  ended(entityId: string): void;
  /** Removes and returns the entities whose readings came from these partitions. */
  takeOf(parts: readonly PartitionRef[]): string[];
  /** Entities noted. */
  readonly size: number;
}

interface Note {
  /** `topic \0 partition` */
  partition: string;
  windowed: boolean;
}

const partitionKey = (p: PartitionRef) => `${p.topic}\u0000${p.partition}`;

export function createEntityPartitions(): EntityPartitions {
  const notes = new Map<string, Note>();
  return {
    read(entityId, from) {
      const partition = partitionKey(from);
      const note = notes.get(entityId);
      if (note) note.partition = partition;
      else notes.set(entityId, { partition, windowed: false });
    },
    windowed(entityId) {
      const note = notes.get(entityId);
      if (note) note.windowed = true;
    },
    ended(entityId) {
      if (notes.get(entityId)?.windowed === false) notes.delete(entityId);
    },
    takeOf(parts) {
      const gone = new Set(parts.map(partitionKey));
      const ids: string[] = [];
      for (const [id, note] of notes) {
        if (!gone.has(note.partition)) continue;
        ids.push(id);
        notes.delete(id);
      }
      return ids;
    },
    get size() {
      return notes.size;
    },
  };
}
