// The floor benchmark's workflow (bench/floor.ts): the shape of one aggregation chunk — a fixed
// set of lanes, each awaiting one local activity per tenant — with an activity that does nothing,
// so what it measures is the Temporal SDK's and server's cost per tenant and nothing of ours.
import { proxyLocalActivities } from '@temporalio/workflow';

const { noop } = proxyLocalActivities<{ noop(i: number): Promise<number> }>({ startToCloseTimeout: '1 minute' });

export async function floorWorkflow(tenants: number, lanes: number): Promise<number> {
  let next = 0;
  let settled = 0;
  const lane = async (): Promise<void> => {
    while (next < tenants) {
      const one = await noop(next++);
      settled += one; // not `settled += await …`: that reads settled before the await
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, tenants) }, lane));
  return settled;
}
