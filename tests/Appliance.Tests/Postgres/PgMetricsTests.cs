using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Appliance.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Appliance.Tests.Postgres;

/// <summary>The gateway's metrics (meter "Appliance") as a real session moves them; on a target no other test uses.</summary>
[Collection(GatewayCollection.Name)]
public sealed class PgMetricsTests(GatewayFixture fx)
{
    /// <summary>Sums every measurement of this gateway's meter by instrument and tags ("name|k=v|k=v").</summary>
    private sealed class Sums : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentDictionary<string, long> _sums = new();

        public Sums(IMeterFactory scope)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                // Only this host's meter: other gateways in the test process have meters of the same name.
                if (instrument.Meter.Name == GatewayMetrics.MeterName && instrument.Meter.Scope == scope)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                var key = instrument.Name + string.Concat(tags.ToArray().OrderBy(t => t.Key).Select(t => $"|{t.Key}={t.Value}"));
                _sums.AddOrUpdate(key, value, (_, sum) => sum + value);
            });
            _listener.Start();
        }

        public long this[string key] => _sums.TryGetValue(key, out var sum) ? sum : 0;

        public override string ToString() => string.Join(", ", _sums.Select(p => $"{p.Key}: {p.Value}"));

        public void Dispose() => _listener.Dispose();
    }

    private Sums Listen() => new(fx.Env.Host!.Services.GetRequiredService<IMeterFactory>());

    [Fact]
    public async Task Session_CountsStatementsByDecision_ActiveWhileOpen_AndItsEnd()
    {
        using var sums = Listen();
        await using (var conn = fx.Npgsql(fx.Env.Token("test"), database: "metricsdb"))
        {
            await conn.OpenAsync();
            Assert.Equal(1, sums["appliance.sessions.active|target=metricsdb"]);
            // Opening may run a statement of Npgsql's own (its type catalog, once per connection string).
            long allowedBefore = sums["appliance.statements|decision=allow|target=metricsdb"];
            await using (var ok = new NpgsqlCommand("select count(*) from customers", conn))
            {
                await ok.ExecuteScalarAsync();
                await ok.ExecuteScalarAsync();
            }
            await using var denied = new NpgsqlCommand("do $$ begin perform 1; end $$", conn);
            await Assert.ThrowsAsync<PostgresException>(() => denied.ExecuteNonQueryAsync());
            Assert.Equal(allowedBefore + 2, sums["appliance.statements|decision=allow|target=metricsdb"]);
            Assert.Equal(1, sums["appliance.statements|decision=deny|target=metricsdb"]);
        }
        // The session ends on the gateway after the client has gone: wait for its end to be counted.
        await WaitForAsync(() => sums["appliance.sessions|outcome=completed|sqlstate=|target=metricsdb"] == 1, sums);
        Assert.Equal(0, sums["appliance.sessions.active|target=metricsdb"]);
        Assert.True(sums["appliance.relayed|direction=from_client|target=metricsdb"] > 0);
        Assert.True(sums["appliance.relayed|direction=from_upstream|target=metricsdb"] > 0);
    }

    [Fact]
    public async Task RefusedLogin_CountedWithItsSqlState()
    {
        using var sums = Listen();
        await using var conn = fx.Npgsql("not-a-token", database: "metricsdb");
        var error = await Assert.ThrowsAsync<PostgresException>(() => conn.OpenAsync());
        // At least one: a client may connect again after a refusal (Npgsql made two attempts here).
        await WaitForAsync(() => sums[$"appliance.sessions|outcome=refused|sqlstate={error.SqlState}|target=metricsdb"] >= 1, sums);
        Assert.Equal(0, sums["appliance.sessions.active|target=metricsdb"]);
        Assert.Equal(0, sums["appliance.sessions|outcome=completed|sqlstate=|target=metricsdb"]);
    }

    [Fact]
    public async Task PrometheusEndpoint_OnTheAdminListener_ServesTheCountsWithoutAToken()
    {
        await using (var conn = fx.Npgsql(fx.Env.Token("test"), database: "metricsdb"))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("select 1", conn);
            await cmd.ExecuteScalarAsync();
        }
        using var http = new HttpClient();
        var response = await http.GetAsync($"http://127.0.0.1:{fx.Env.AdminPort}/metrics");
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        var allowed = text.Split('\n').Where(l => l.StartsWith("appliance_statements_total{", StringComparison.Ordinal)
            && l.Contains("target=\"metricsdb\"", StringComparison.Ordinal) && l.Contains("decision=\"allow\"", StringComparison.Ordinal)).ToList();
        var line = Assert.Single(allowed);
        Assert.True(long.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture) >= 1, line);
        Assert.Contains("# TYPE appliance_sessions_active gauge", text);
    }

    [Fact]
    public async Task StatementHeldForACatalogReload_CountedOnce_ByItsFinalDecision()
    {
        // viewsdb denies select on public.customers, views over it included; a name the catalog does not know
        // holds the statement while the catalog is read again, then it is decided (and counted) once.
        const string Allow = "appliance.statements|decision=allow|target=viewsdb", Deny = "appliance.statements|decision=deny|target=viewsdb";
        using var sums = Listen();
        await using var conn = fx.Npgsql(fx.Env.Token("test"), database: "viewsdb");
        await conn.OpenAsync();
        await using (var first = new NpgsqlCommand("select count(*) from reports.order_totals", conn))
        {
            // Reads the catalog, before the views below exist.
            await first.ExecuteScalarAsync();
        }
        long allowed = sums[Allow], denied = sums[Deny];
        await fx.Env.Postgres.PsqlAsync("""
            CREATE VIEW reports.metric_cards AS SELECT card_number FROM public.customers;
            CREATE VIEW reports.metric_orders AS SELECT id FROM public.orders;
            GRANT SELECT ON reports.metric_cards, reports.metric_orders TO appliance_gw;
            """, database: "orders");
        try
        {
            await using var refused = new NpgsqlCommand("select card_number from reports.metric_cards", conn);
            var error = await Assert.ThrowsAsync<PostgresException>(() => refused.ExecuteScalarAsync());
            Assert.Contains("views reading public.customers", error.MessageText);
            Assert.Equal((allowed, denied + 1), (sums[Allow], sums[Deny]));
            await using var ok = new NpgsqlCommand("select count(*) from reports.metric_orders", conn);
            await ok.ExecuteScalarAsync();
            Assert.Equal((allowed + 1, denied + 1), (sums[Allow], sums[Deny]));
        }
        finally
        {
            await fx.Env.Postgres.PsqlAsync("DROP VIEW reports.metric_cards, reports.metric_orders;", database: "orders");
        }
    }

    private static async Task WaitForAsync(Func<bool> condition, Sums sums)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not counted; measured: {sums}");
            await Task.Delay(10);
        }
    }
}
