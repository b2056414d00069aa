package dev.tickvm.migration;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The comparison as a picture: for each strategy and clock, vCPU 0's guest time minus true time
 * (ms) against true time since the migration began (ms). A clock that stopped during the downtime
 * drops by it; one that counted the downtime through another host's realtime moves by that host's
 * NTP error; one that was restored wrongly lands elsewhere.
 */
public final class ComparisonPlot {
    private ComparisonPlot() {
    }

    /** Writes {@code base}.png and {@code base}.svg; returns their paths. */
    public static List<Path> write(Comparison comparison, Path base) throws IOException {
        XYChart chart = new XYChartBuilder().width(1100).height(650)
                .title("tickvm compare: " + comparison.setup().name())
                .xAxisTitle("true time since the VM stopped (ms)").yAxisTitle("guest clock minus true time (ms)").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setPlotGridLinesVisible(true);
        chart.getStyler().setMarkerSize(5);
        for (MigrationResult r : comparison.results()) {
            if (r.failure() != null || r.series().isEmpty()) {
                continue;
            }
            List<Double> x = new ArrayList<>();
            List<Double> tsc = new ArrayList<>();
            List<Double> kvm = new ArrayList<>();
            for (MigrationResult.Sample s : r.series()) {
                x.add(s.trueNanos() / 1e6);
                tsc.add(s.tscErrorNs() / 1e6);
                kvm.add(s.kvmclockErrorNs() / 1e6);
            }
            // The step in the legend too: strategies with the same numbers draw the same line.
            XYSeries a = chart.addSeries(String.format(java.util.Locale.ROOT, "%s: TSC (%+.3f ms)", r.strategy(),
                    r.worst(MigrationResult.Vcpu::tscStepNs) / 1e6), x, tsc);
            a.setMarker(SeriesMarkers.CIRCLE);
            a.setLineStyle(org.knowm.xchart.style.lines.SeriesLines.DASH_DASH);
            XYSeries b = chart.addSeries(String.format(java.util.Locale.ROOT, "%s: kvmclock (%+.3f ms)", r.strategy(),
                    r.worst(MigrationResult.Vcpu::kvmclockStepNs) / 1e6), x, kvm);
            b.setMarker(SeriesMarkers.DIAMOND);
        }
        String name = base.getFileName().toString();
        Path png = base.resolveSibling(name + ".png");
        Path svg = base.resolveSibling(name + ".svg");
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
        VectorGraphicsEncoder.saveVectorGraphic(chart, svg.toString(), VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
        return List.of(png, svg);
    }
}
