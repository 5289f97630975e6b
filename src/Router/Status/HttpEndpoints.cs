using System.Reflection;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace KvnDb.Router;

/// <summary>
/// The router's HTTP port (<c>--http-port</c>): <c>/metrics</c> (Prometheus text), <c>/health</c> (JSON;
/// 200 when serving, 503 otherwise), <c>/status.json</c> and the status page at <c>/</c> (HTML, CSS and
/// script from embedded resources, no CDN). The page arrives with the current status inlined, so it shows
/// the cluster before any script fetch, then polls <c>/status.json</c> every second.
/// </summary>
internal sealed class HttpEndpoints(Cluster cluster, ClientRegistry clients, PrometheusMetrics metrics, StatusHistory history)
{
    private const string InitialMarker = "/*INITIAL_STATUS*/null";
    private static readonly string Page = Resource("status.html");
    private static readonly byte[] Script = Encoding.UTF8.GetBytes(Resource("status.js"));
    private static readonly byte[] Styles = Encoding.UTF8.GetBytes(Resource("status.css"));

    /// <summary>Set once Kestrel has bound the router's ports.</summary>
    public RouterEndpoints? Endpoints { get; set; }

    public Task HandleAsync(HttpContext context)
    {
        var response = context.Response;
        response.Headers.CacheControl = "no-store";
        return context.Request.Path.Value switch
        {
            "/metrics" => MetricsAsync(context),
            "/health" => JsonAsync(context, json => StatusReport.WriteHealth(json, cluster), StatusReport.IsReady(cluster) ? 200 : 503),
            "/status.json" => JsonAsync(context, WriteStatus, 200),
            "/" or "/index.html" => PageAsync(context),
            "/status.js" => BytesAsync(context, Script, "text/javascript; charset=utf-8"),
            "/status.css" => BytesAsync(context, Styles, "text/css; charset=utf-8"),
            _ => NotFoundAsync(context),
        };
    }

    private void WriteStatus(Utf8JsonWriter json) =>
        StatusReport.WriteStatus(json, cluster, clients.Count, Endpoints ?? new RouterEndpoints("?", 0, null), history);

    private async Task MetricsAsync(HttpContext context)
    {
        context.Response.ContentType = KvnDb.Hosting.Metrics.StandardMetrics.ContentType;
        await metrics.WriteAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task JsonAsync(HttpContext context, Action<Utf8JsonWriter> write, int status)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.BodyWriter.WriteAsync(Json(write), context.RequestAborted).ConfigureAwait(false);
    }

    private async Task PageAsync(HttpContext context)
    {
        // The current status inlined: Utf8JsonWriter escapes '<', so the JSON cannot close the script element.
        var initial = Encoding.UTF8.GetString(Json(WriteStatus).Span);
        var page = Encoding.UTF8.GetBytes(Page.Replace(InitialMarker, initial, StringComparison.Ordinal));
        await BytesAsync(context, page, "text/html; charset=utf-8").ConfigureAwait(false);
    }

    private static async Task BytesAsync(HttpContext context, byte[] body, string contentType)
    {
        context.Response.ContentType = contentType;
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    private static Task NotFoundAsync(HttpContext context)
    {
        context.Response.StatusCode = 404;
        return Task.CompletedTask;
    }

    private static ReadOnlyMemory<byte> Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
            write(json);
        return buffer.WrittenMemory;
    }

    private static string Resource(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("KvnDb.Router.Status." + name)
            ?? throw new InvalidOperationException($"embedded resource {name} missing");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
