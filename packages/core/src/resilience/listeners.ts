/**
 * A minimal listener list for breaker events. Transitions are rare, so adding and
 * removing copy the array; emitting then never sees a list that changes under it.
 */

export type Listener<E> = (event: E) => void;

export class Listeners<E> {
  private list: readonly Listener<E>[] = [];

  /** Adds a listener; the returned function removes it again. */
  add(listener: Listener<E>): () => void {
    this.list = [...this.list, listener];
    return () => {
      this.list = this.list.filter((candidate) => candidate !== listener);
    };
  }

  get size(): number {
    return this.list.length;
  }

  /**
   * Calls every listener. A listener that throws is skipped: a metrics or logging
   * bug must never change what the breaker decides or stop other listeners.
   */
  emit(event: E): void {
    for (const listener of this.list) {
      try {
        listener(event);
      } catch {
        // Deliberately ignored; see above.
      }
    }
  }
}
