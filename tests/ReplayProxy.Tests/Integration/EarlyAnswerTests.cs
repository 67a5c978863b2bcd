using System.Net;

namespace ReplayProxy.Tests.Integration;

/// <summary>
/// Amplitude's front ends (nginx) refuse some uploads on their headers: they answer 413, 401 or 400 before reading the
/// body, then either drain it or close. The client must get that answer (the replay SDK splits a batch on a 413 whose
/// body says the payload exceeded the limit; a 502 makes it retry and drop), and the upstream pool must stay usable.
/// </summary>
public abstract class EarlyAnswerTests<TProxy>(ProxyFixture<TProxy> fixture) : IClassFixture<ProxyFixture<TProxy>>
    where TProxy : IProxyKind
{
    private const int UploadBytes = 4 * 1024 * 1024;
    private const string PayloadExceeded = "Request payload size exceeded the limit";

    public static TheoryData<int, string, bool> Answers => new()
    {
        { 413, PayloadExceeded, true },
        { 401, "Invalid API key", true },
        { 400, "Bad request", true },
        { 413, PayloadExceeded, false },
    };

    [Theory]
    [MemberData(nameof(Answers))]
    public async Task Early_upstream_answer_reaches_the_client_and_the_pool_stays_usable(int status, string body, bool drain)
    {
        var upstream = fixture.Cleared();
        upstream.BeforeBody = upstream.AnswerEarly(status, body, drain);
        try
        {
            using var upload = new ByteArrayContent(new byte[UploadBytes]);
            upload.Headers.TryAddWithoutValidation("Content-Type", "application/json");
            using var response = await fixture.Client.PostAsync("/sessions/v2/track?device_id=d&session_id=1", upload);

            Assert.Equal(status, (int)response.StatusCode);
            Assert.Equal(body, await response.Content.ReadAsStringAsync());
        }
        finally
        {
            upstream.BeforeBody = null;
        }

        // The next uploads go through the same upstream pool: a connection left mid-body must not be reused.
        for (var i = 0; i < 3; i++)
        {
            using var next = await fixture.Client.PostAsync("/sessions/v2/track?device_id=d&session_id=2", new ByteArrayContent(new byte[100_000]));
            Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        }

        Assert.Equal(3, upstream.Received.Count(r => r.Query.Contains("session_id=2", StringComparison.Ordinal) && r.BodyLength == 100_000 && r.BodyCompleted));
    }
}

public sealed class StandaloneEarlyAnswerTests(ProxyFixture<StandaloneProxy> fixture) : EarlyAnswerTests<StandaloneProxy>(fixture);

[Collection(FunctionsHostCollection.Name)]
public sealed class FunctionsEarlyAnswerTests(ProxyFixture<FunctionsProxy> fixture) : EarlyAnswerTests<FunctionsProxy>(fixture);
