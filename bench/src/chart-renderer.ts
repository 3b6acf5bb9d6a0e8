/**
 * Vega-Lite spec → SVG string, in Node, without a browser or canvas: vega-lite compiles to a Vega spec and a
 * headless `vega.View` (renderer 'none') serialises its scenegraph. Text widths are estimated, which is why
 * labels may sit a pixel off compared with a browser render.
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { ChartRenderError } from './errors.js';

/** Applied under each spec's own settings so every chart in the report looks alike. */
const DEFAULT_CONFIG = {
  font: 'system-ui, -apple-system, Segoe UI, Roboto, sans-serif',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
};

/**
 * Renders one Vega-Lite top-level spec (data inline) to a standalone SVG document.
 *
 * @throws {ChartRenderError} when vega-lite rejects the spec or vega fails to render it
 */
export async function renderChartSvg(id: string, spec: Record<string, unknown>): Promise<string> {
  let view: View | undefined;
  try {
    const config = { ...DEFAULT_CONFIG, ...((spec.config as Record<string, unknown> | undefined) ?? {}) };
    // vega-lite's TopLevelSpec is a deep union; experiments hand us plain objects, and vega-lite validates them.
    const compiled = compile({ ...spec, config } as unknown as TopLevelSpec).spec;
    view = new View(parse(compiled), { renderer: 'none' });
    const svg = await view.toSVG();
    if (!svg.startsWith('<svg')) throw new Error('renderer returned no <svg> element');
    return svg;
  } catch (cause) {
    throw new ChartRenderError(id, cause);
  } finally {
    view?.finalize();
  }
}
