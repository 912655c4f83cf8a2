// The libvirt domain's watchdog XSLT, run through the same xsltproc (with the
// same flags) that dmacvicar/libvirt 0.8.3 calls on the domain XML.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { WATCHDOG_XSLT } from '../../constructs/platforms/libvirt/watchdog-xslt';

const DOMAIN_SAMPLE = path.resolve(__dirname, '../fixtures/libvirt/domain-sample.xml');

describe('watchdog XSLT (run through xsltproc, as the provider does)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'afxslt-'));
    // The provider trims the stylesheet and calls xsltproc with these flags.
    writeFileSync(path.join(dir, 'watchdog.xsl'), WATCHDOG_XSLT.trim());
    // Helpers: an identity copy (fails on XML that is not well-formed), a
    // counter, and a canonical form without watchdogs and blank text.
    writeFileSync(path.join(dir, 'identity.xsl'), stylesheet('<xsl:template match="@*|node()"><xsl:copy><xsl:apply-templates select="@*|node()"/></xsl:copy></xsl:template>'));
    writeFileSync(
      path.join(dir, 'count.xsl'),
      stylesheet(
        `<xsl:output method="text"/><xsl:template match="/">` +
          `<xsl:value-of select="count(//watchdog)"/>,<xsl:value-of select="count(/domain/devices/watchdog[@model='i6300esb' and @action='reset'])"/>` +
          `</xsl:template>`,
      ),
    );
    writeFileSync(
      path.join(dir, 'canonical.xsl'),
      stylesheet(
        '<xsl:strip-space elements="*"/><xsl:output indent="yes" omit-xml-declaration="yes"/>' +
          '<xsl:template match="@*|node()"><xsl:copy><xsl:apply-templates select="@*|node()"/></xsl:copy></xsl:template>' +
          '<xsl:template match="/domain/devices/watchdog"/>',
      ),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function stylesheet(body: string): string {
    return `<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">${body}</xsl:stylesheet>`;
  }
  function xsltproc(xsl: string, xml: string): string {
    const input = path.join(dir, `in-${Math.random().toString(36).slice(2)}.xml`);
    writeFileSync(input, xml);
    return execFileSync('xsltproc', ['--nomkdir', '--nonet', '--nowrite', path.join(dir, xsl), input], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }
  const transform = (xml: string) => xsltproc('watchdog.xsl', xml);
  const counts = (xml: string) => xsltproc('count.xsl', xml).split(',').map(Number);
  const canonical = (xml: string) => xsltproc('canonical.xsl', xml);
  const exactElement = (xml: string) => xml.match(/<watchdog model="i6300esb" action="reset"\/>/g)?.length ?? 0;

  const sample = readFileSync(DOMAIN_SAMPLE, 'utf8');

  it('has nothing Terraform would interpolate', () => {
    expect(WATCHDOG_XSLT).not.toMatch(/[$%]\{/);
  });

  it('adds exactly one i6300esb watchdog under /domain/devices of the domain the provider generates', () => {
    expect(counts(sample)).toEqual([0, 0]);
    const out = transform(sample);
    xsltproc('identity.xsl', out); // well-formed, or xsltproc exits non-zero
    expect(counts(out)).toEqual([1, 1]);
    expect(exactElement(out)).toBe(1);
    expect(out).not.toMatch(/^<\?xml/);
  });

  it('preserves everything else', () => {
    const out = transform(sample);
    expect(canonical(out)).toBe(canonical(sample));
    for (const kept of ['<name>spacefab-node1</name>', '<mac address="52:54:00:3A:9F:C1"/>', '<source bridge="br-mgmt"/>', '<serial>cloudinit</serial>', '<backend model="random">/dev/urandom</backend>']) {
      expect(out).toContain(kept);
    }
  });

  it('is idempotent: applied twice, still exactly one', () => {
    const twice = transform(transform(sample));
    expect(counts(twice)).toEqual([1, 1]);
    expect(exactElement(twice)).toBe(1);
    expect(canonical(twice)).toBe(canonical(sample));
  });

  it('keeps an i6300esb watchdog that is already there, set to reset, with its address', () => {
    const existing = sample.replace(
      '</devices>',
      '<watchdog model="i6300esb" action="none"><address type="pci" domain="0x0000" bus="0x00" slot="0x08" function="0x0"/></watchdog><watchdog model="i6300esb"/></devices>',
    );
    const out = transform(existing);
    expect(counts(out)).toEqual([1, 1]);
    expect(out).toMatch(/<watchdog model="i6300esb" action="reset"><address type="pci" domain="0x0000" bus="0x00" slot="0x08" function="0x0"\/><\/watchdog>/);
  });

  it('leaves a watchdog of another model alone', () => {
    const out = transform(sample.replace('</devices>', '<watchdog model="itco" action="poweroff"/></devices>'));
    expect(counts(out)).toEqual([2, 1]);
    expect(out).toContain('<watchdog model="itco" action="poweroff"/>');
  });
});
