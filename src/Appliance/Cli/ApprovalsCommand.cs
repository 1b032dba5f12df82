using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Appliance.Approvals;
using Appliance.Configuration;
using Appliance.Recording;

namespace Appliance.Cli;

/// <summary>
/// <c>appliance approvals list|show|approve|deny|pre-approve|pre-list|revoke|fingerprint</c>: the reviewer's side,
/// over the admin API, with the reviewer's token from <c>--token-file</c> or <c>$APPLIANCE_TOKEN</c>.
/// </summary>
internal static class ApprovalsCommand
{
    private sealed class Common
    {
        public readonly Option<string?> Config = new("--config", "-c") { Description = "The gateway's configuration file (for admin.listen and its CA)" };
        public readonly Option<string?> Url = new("--url") { Description = "The admin API's base URL instead of --config (e.g. http://127.0.0.1:8080)" };
        public readonly Option<string?> TokenFile = new("--token-file") { Description = "File holding the reviewer's JWT (default: $APPLIANCE_TOKEN)" };
        public readonly Option<bool> Json = new("--json") { Description = "Print the API's JSON answer" };

        public void AddTo(Command command)
        {
            command.Options.Add(Config);
            command.Options.Add(Url);
            command.Options.Add(TokenFile);
            command.Options.Add(Json);
        }
    }

    public static Command Create() => new("approvals", "List, show, approve and deny approval requests; pre-approve CI statements")
    {
        List(), Show(), Decide("approve"), Decide("deny"), PreApprove(), PreList(), Revoke(), Fingerprint(),
    };

    private static Command List()
    {
        var common = new Common();
        var state = new Option<string?>("--state") { Description = "Only requests in this state: pending, approved, denied, expired, orphaned, canceled" };
        var command = new Command("list", "List approval requests (pending first)") { state };
        common.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(state) is { } s ? $"/v1/approvals?state={Uri.EscapeDataString(s)}" : "/v1/approvals";
            return await CallAsync(parse, common, HttpMethod.Get, path, null, (output, json) =>
            {
                var items = json["approvals"]!.AsArray();
                if (items.Count == 0)
                {
                    output.WriteLine("no approval requests");
                    return;
                }
                output.WriteLine($"{"ID",-16}  {"STATE",-9}  {"TARGET",-12}  {"REQUESTER",-28}  {"CLASS",-8}  {"VOTES",-5}  {"EXPIRES (UTC)",-19}  STATEMENT");
                foreach (var item in items.OrderBy(i => (string?)i!["state"] == "pending" ? 0 : 1))
                {
                    output.WriteLine($"{Text(item, "id"),-16}  {Text(item, "state"),-9}  {Cut(Text(item, "target"), 12),-12}  {Cut(Text(item, "requester"), 28),-28}  "
                        + $"{Text(item, "statement_class"),-8}  {item!["approvals"]!.AsArray().Count + "/" + Text(item, "approvals_needed"),-5}  "
                        + $"{Time(item, "expires"),-19}  {Cut(OneLine(Text(item, "statement")), 60)}");
                }
            }, ct);
        });
        return command;
    }

    private static Command Show()
    {
        var common = new Common();
        var id = new Argument<string>("id") { Description = "The request id (from the NOTICE, the webhook or approvals list)" };
        var command = new Command("show", "Show one approval request in full") { id };
        common.AddTo(command);
        command.SetAction(async (parse, ct) =>
            await CallAsync(parse, common, HttpMethod.Get, $"/v1/approvals/{Uri.EscapeDataString(parse.GetValue(id)!)}", null, PrintRequest, ct));
        return command;
    }

    private static Command Decide(string verb)
    {
        var common = new Common();
        var id = new Argument<string>("id") { Description = "The request id" };
        var reason = new Option<string?>("--reason", "-m") { Description = verb == "deny" ? "Why (required; the requester sees it)" : "Why (optional; recorded)" };
        var command = new Command(verb, verb == "approve" ? "Approve a pending request (the statement runs once enough reviewers approve)" : "Deny a pending request (the statement fails with your reason)") { id, reason };
        common.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var body = JsonSerializer.Serialize(new { reason = parse.GetValue(reason) });
            return await CallAsync(parse, common, HttpMethod.Post, $"/v1/approvals/{Uri.EscapeDataString(parse.GetValue(id)!)}/{verb}", body, (output, json) =>
            {
                output.WriteLine($"{Text(json["request"], "id")}: {Text(json, "status")}");
            }, ct);
        });
        return command;
    }

    private static Command PreApprove()
    {
        var common = new Common();
        var target = new Option<string>("--target", "-t") { Description = "The target the statement runs on", Required = true };
        var sql = new Option<string?>("--sql") { Description = "Pre-approve this statement (its fingerprint: whitespace, case and literal values do not matter)" };
        var fingerprint = new Option<string?>("--fingerprint") { Description = "Pre-approve statements with this fingerprint (appliance approvals fingerprint)" };
        var claim = new Option<string?>("--claim") { Description = "Pre-approve what a principal with this claim runs, NAME=VALUE (e.g. run_id=1234)" };
        var uses = new Option<int>("--uses") { Description = "How many statements it approves", DefaultValueFactory = _ => 1 };
        var ttl = new Option<string>("--ttl") { Description = "How long it stays usable (30m, 2h)", DefaultValueFactory = _ => "1h" };
        var reason = new Option<string?>("--reason", "-m") { Description = "Why (recorded)" };
        var command = new Command("pre-approve", "Approve ahead of time, by statement fingerprint or by claim value, for a number of uses and a time") { target, sql, fingerprint, claim, uses, ttl, reason };
        common.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var body = JsonSerializer.Serialize(new
            {
                target = parse.GetValue(target), sql = parse.GetValue(sql), fingerprint = parse.GetValue(fingerprint), claim = parse.GetValue(claim),
                uses = parse.GetValue(uses), ttl = parse.GetValue(ttl), reason = parse.GetValue(reason),
            });
            return await CallAsync(parse, common, HttpMethod.Post, "/v1/approvals/pre", body, (output, json) =>
            {
                output.WriteLine($"pre-approval {Text(json, "id")}: target {Text(json, "target")}, "
                    + (json["fingerprint"] is not null ? $"fingerprint {Text(json, "fingerprint")}" : $"claim {Text(json, "claim_name")}={Text(json, "claim_value")}")
                    + $", {Text(json, "uses")} use(s) until {Time(json, "expires")} UTC");
            }, ct);
        });
        return command;
    }

    private static Command PreList()
    {
        var common = new Common();
        var command = new Command("pre-list", "List pre-approvals");
        common.AddTo(command);
        command.SetAction(async (parse, ct) => await CallAsync(parse, common, HttpMethod.Get, "/v1/approvals/pre", null, (output, json) =>
        {
            foreach (var p in json["pre_approvals"]!.AsArray())
            {
                output.WriteLine($"{Text(p, "id")}  {Text(p, "target")}  {(p!["fingerprint"] is not null ? "fingerprint " + Text(p, "fingerprint")[..16] + "…" : "claim " + Text(p, "claim_name") + "=" + Text(p, "claim_value"))}"
                    + $"  used {Text(p, "used")}/{Text(p, "uses")}  until {Time(p, "expires")}  by {Text(p, "by")}{((bool?)p["revoked"] == true ? "  (revoked)" : "")}");
            }
        }, ct));
        return command;
    }

    private static Command Revoke()
    {
        var common = new Common();
        var id = new Argument<string>("id") { Description = "The pre-approval id" };
        var command = new Command("revoke", "Revoke a pre-approval") { id };
        common.AddTo(command);
        command.SetAction(async (parse, ct) => await CallAsync(parse, common, HttpMethod.Delete, $"/v1/approvals/pre/{Uri.EscapeDataString(parse.GetValue(id)!)}", null,
            (output, json) => output.WriteLine($"pre-approval {Text(json, "id")} revoked"), ct));
        return command;
    }

    private static Command Fingerprint()
    {
        var sql = new Argument<string>("sql") { Description = "The statement text" };
        var command = new Command("fingerprint", "Print a statement's fingerprint (for pre-approve --fingerprint); needs no gateway") { sql };
        command.SetAction(parse =>
        {
            if (StatementFingerprint.Compute(parse.GetValue(sql)!) is not { } fingerprint)
            {
                parse.InvocationConfiguration.Error.WriteLine("appliance: the statement cannot be read by the SQL lexer");
                return 1;
            }
            parse.InvocationConfiguration.Output.WriteLine(fingerprint);
            return 0;
        });
        return command;
    }

    private static void PrintRequest(TextWriter output, JsonNode json)
    {
        output.WriteLine($"request     {Text(json, "id")}");
        output.WriteLine($"state       {Text(json, "state")}{(json["executed"]?.GetValue<bool>() == true ? " (executed)" : "")}");
        output.WriteLine($"target      {Text(json, "target")}  (rule {Text(json, "rule")}, line {Text(json, "rule_line")})");
        output.WriteLine($"requester   {Text(json, "requester")} ({Text(json, "requester_issuer")})");
        output.WriteLine($"class       {Text(json, "statement_class")}");
        output.WriteLine($"approvers   {string.Join(", ", json["approver_roles"]!.AsArray().Select(r => (string?)r))}; {Text(json, "approvals_needed")} needed");
        output.WriteLine($"created     {Time(json, "created")} UTC; expires {Time(json, "expires")} UTC");
        foreach (var vote in json["approvals"]!.AsArray())
        {
            output.WriteLine($"approved by {Text(vote, "subject")} at {Time(vote, "time")}{(vote!["reason"] is { } r ? ": " + TranscriptText.Escape((string?)r ?? "", 1000) : "")}");
        }
        if (json["denial"] is { } denial)
        {
            output.WriteLine($"denied by   {Text(denial, "subject")} at {Time(denial, "time")}: {TranscriptText.Escape(Text(denial, "reason"), 1000)}");
        }
        if (json["detail"] is { } detail)
        {
            output.WriteLine($"detail      {TranscriptText.Escape((string?)detail ?? "", 1000)}");
        }
        output.WriteLine($"fingerprint {Text(json, "fingerprint")}");
        output.WriteLine("statement:");
        output.WriteLine(TranscriptText.Escape(Text(json, "statement"), ApprovalQueue.MaxStatementChars + 16));
    }

    private static async Task<int> CallAsync(ParseResult parse, Common common, HttpMethod method, string path, string? body, Action<TextWriter, JsonNode> print, CancellationToken ct)
    {
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        if (Locate(parse, common, error) is not var (baseUri, handler))
        {
            return 2;
        }
        string? token = parse.GetValue(common.TokenFile) is { } file
            ? File.Exists(file) ? (await File.ReadAllTextAsync(file, ct)).Trim() : null
            : Environment.GetEnvironmentVariable("APPLIANCE_TOKEN");
        if (string.IsNullOrEmpty(token))
        {
            error.WriteLine(parse.GetValue(common.TokenFile) is { } missing
                ? $"appliance: token file '{missing}' does not exist"
                : "appliance: no token: pass --token-file or set APPLIANCE_TOKEN");
            return 2;
        }
        using (handler)
        using (var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) })
        {
            var uri = new Uri(baseUri, path);
            using var request = new HttpRequestMessage(method, uri);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            if (body is not null)
            {
                request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            }
            try
            {
                using var response = await http.SendAsync(request, ct);
                var text = await response.Content.ReadAsStringAsync(ct);
                JsonNode? json = null;
                try
                {
                    json = JsonNode.Parse(text);
                }
                catch (JsonException)
                {
                }
                if (!response.IsSuccessStatusCode)
                {
                    error.WriteLine($"appliance: {(json?["error"] is { } e ? (string?)e : $"HTTP {(int)response.StatusCode}")} (HTTP {(int)response.StatusCode})");
                    return 1;
                }
                if (json is null)
                {
                    error.WriteLine("appliance: the admin API answered with something that is not JSON");
                    return 1;
                }
                if (parse.GetValue(common.Json))
                {
                    output.WriteLine(json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                }
                else
                {
                    print(output, json);
                }
                return 0;
            }
            catch (HttpRequestException e)
            {
                error.WriteLine($"appliance: cannot reach the admin API at {uri}: {e.Message}");
                return 1;
            }
        }
    }

    /// <summary>The admin API's base address and an HTTP handler trusting the gateway's CA when it uses HTTPS.</summary>
    private static (Uri, HttpClientHandler)? Locate(ParseResult parse, Common common, TextWriter error)
    {
        var handler = new HttpClientHandler();
        if (parse.GetValue(common.Url) is { } url)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                error.WriteLine($"appliance: --url: expected http://HOST:PORT or https://HOST:PORT, got '{url}'");
                return null;
            }
            return (uri, handler);
        }
        if (parse.GetValue(common.Config) is not { } configPath)
        {
            error.WriteLine("appliance: pass --config FILE (the gateway's configuration) or --url");
            return null;
        }
        var loaded = ConfigLoader.LoadFile(configPath);
        if (!loaded.Succeeded || loaded.Config.Admin is null || !ListenEndpoint.TryParse(loaded.Config.Admin.Listen, out var endPoint, out _))
        {
            error.WriteLine("appliance: approvals needs a valid config with admin.listen");
            return null;
        }
        return (AdminAddress.Resolve(endPoint, loaded.Config.StateDir, handler), handler);
    }

    private static string Text(JsonNode? node, string name) => node?[name] is { } value ? value.ToString() : "";

    private static string Time(JsonNode? node, string name) =>
        node?[name] is { } value && DateTimeOffset.TryParse(value.ToString(), out var t) ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) : "";

    private static string Cut(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    private static string OneLine(string text) => TranscriptText.Escape(text.ReplaceLineEndings(" "), 200);
}
