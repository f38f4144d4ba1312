/** The demo's fixed, documented addresses (docs/demo.md). Each port can be changed by a flag. */
export const DEMO_DEFAULTS = {
  host: '127.0.0.1',
  ports: { payguard: 8080, admin: 9464, storefront: 3000, gateway: 3001, attacker: 3002 },
} as const;

export type DemoService = keyof typeof DEMO_DEFAULTS.ports;

export interface DemoConfig {
  readonly host: string;
  /** 0 picks a free port. */
  readonly ports: Readonly<Record<DemoService, number>>;
}
