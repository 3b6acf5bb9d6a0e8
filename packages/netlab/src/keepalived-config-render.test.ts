import { describe, expect, it } from 'vitest';
import { LabBadOptionError } from './errors.js';
import { renderKeepalivedConfig, renderTrackScript } from './keepalived-config.js';

const base = {
  name: 'iolab_ab',
  interface: 'front',
  virtualRouterId: 51,
  priority: 150,
  addresses: [{ cidr: '198.51.100.100/24', dev: 'front' }],
  unicastSource: '198.51.100.2',
  unicastPeers: ['198.51.100.3'],
  preempt: true,
};

describe('keepalived config rendering', () => {
  it('writes one VRRP instance with the VIP, unicast peers and the track script', () => {
    const text = renderKeepalivedConfig({ ...base, trackScript: { path: '/tmp/x/track.sh', weight: 60 } });
    expect(text).toMatch(/vrrp_script iolab_balancer \{\n {2}script "\/tmp\/x\/track.sh"/);
    expect(text).toContain('  weight -60');
    expect(text).toMatch(/vrrp_instance iolab_ab \{\n {2}state MASTER/);
    expect(text).toContain('    198.51.100.100/24 dev front');
    expect(text).toContain('  unicast_src_ip 198.51.100.2');
    expect(text).toMatch(/unicast_peer \{\n {4}198\.51\.100\.3\n/);
    expect(text).toMatch(/track_script \{\n {4}iolab_balancer/);
    expect(text).not.toContain('nopreempt');
  });

  it('preempt off writes nopreempt with the BACKUP start state keepalived requires for it', () => {
    const text = renderKeepalivedConfig({ ...base, preempt: false });
    expect(text).toContain('  nopreempt');
    expect(text).toContain('  state BACKUP');
  });

  it.each([
    ['a name keepalived would split', { name: 'a b' }],
    ['a router id out of range', { virtualRouterId: 256 }],
    ['priority 255 (reserved for the address owner)', { priority: 255 }],
  ])('refuses %s', (_what, over) => {
    expect(() => renderKeepalivedConfig({ ...base, ...over })).toThrow(LabBadOptionError);
  });

  it("the track script connects to each listener's port on loopback", () => {
    const script = renderTrackScript({ listeners: [{ host: '198.51.100.100', port: 80 }, { port: 443 }] });
    expect(script.startsWith('#!/bin/bash\n')).toBe(true);
    expect(script).toContain("/dev/tcp/127.0.0.1/80' || exit 1");
    expect(script).toContain("/dev/tcp/127.0.0.1/443' || exit 1");
    expect(() => renderTrackScript({ listeners: [{ port: 0 }] })).toThrow(LabBadOptionError);
  });
});
