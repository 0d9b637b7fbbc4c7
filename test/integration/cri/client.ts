// A CRI client over gRPC, as the kubelet talks to containerd: @grpc/grpc-js with the RPCs of
// runtime-v1.proto (beside this file), each call a promise.
import * as grpc from '@grpc/grpc-js';
import * as loader from '@grpc/proto-loader';

const RPCS = ['Version', 'RunPodSandbox', 'StopPodSandbox', 'RemovePodSandbox', 'CreateContainer', 'StartContainer', 'StopContainer', 'RemoveContainer', 'ListContainers', 'ExecSync', 'ContainerStats'] as const;
export type Rpc = (typeof RPCS)[number];
export type CriClient = { [K in Rpc]: (request: object) => Promise<any> } & { close(): void };

/** A client of the CRI RuntimeService at the unix socket `address`. */
export function criClient(address: string): CriClient {
  const definition = loader.loadSync(new URL('runtime-v1.proto', import.meta.url).pathname, {
    longs: Number,
    enums: String,
    defaults: true,
  });
  const pkg = grpc.loadPackageDefinition(definition) as any;
  const stub = new pkg.runtime.v1.RuntimeService(`unix://${address}`, grpc.credentials.createInsecure());
  const client = { close: () => stub.close() } as CriClient;
  for (const rpc of RPCS) {
    const method = rpc[0].toLowerCase() + rpc.slice(1);
    client[rpc] = (request: object) =>
      new Promise((resolve, reject) =>
        stub[method](request, { deadline: Date.now() + 60_000 }, (err: grpc.ServiceError | null, res: any) =>
          err ? reject(new Error(`${rpc}: ${err.details || err.message}`)) : resolve(res),
        ),
      );
  }
  return client;
}
