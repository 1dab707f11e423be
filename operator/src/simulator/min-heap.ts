// A binary min-heap on a numeric key: the simulator's event queue.

export class MinHeap<Item> {
  private readonly keys: number[] = [];
  private readonly items: Item[] = [];

  get size(): number {
    return this.keys.length;
  }

  peekKey(): number {
    return this.keys.length > 0 ? (this.keys[0] as number) : Infinity;
  }

  push(key: number, item: Item): void {
    this.keys.push(key);
    this.items.push(item);
    let index = this.keys.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if ((this.keys[parent] as number) <= key) break;
      this.swap(index, parent);
      index = parent;
    }
  }

  pop(): Item | undefined {
    if (this.keys.length === 0) return undefined;
    const top = this.items[0];
    const lastKey = this.keys.pop() as number;
    const lastItem = this.items.pop() as Item;
    if (this.keys.length > 0) {
      this.keys[0] = lastKey;
      this.items[0] = lastItem;
      this.siftDown(0);
    }
    return top;
  }

  private siftDown(start: number): void {
    let index = start;
    const length = this.keys.length;
    for (;;) {
      const left = index * 2 + 1;
      const right = left + 1;
      let smallest = index;
      if (left < length && (this.keys[left] as number) < (this.keys[smallest] as number)) smallest = left;
      if (right < length && (this.keys[right] as number) < (this.keys[smallest] as number)) smallest = right;
      if (smallest === index) return;
      this.swap(index, smallest);
      index = smallest;
    }
  }

  private swap(a: number, b: number): void {
    const key = this.keys[a] as number;
    this.keys[a] = this.keys[b] as number;
    this.keys[b] = key;
    const item = this.items[a] as Item;
    this.items[a] = this.items[b] as Item;
    this.items[b] = item;
  }
}
