/** `analytics seed` without --reset found its organizations already there. */
export class SeedConflictError extends Error {
  constructor(readonly existing: string[]) {
    super(`organizations ${existing.join(', ')} already exist; pass --reset to replace all data`);
    this.name = 'SeedConflictError';
  }
}
