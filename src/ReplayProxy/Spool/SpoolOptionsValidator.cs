using Microsoft.Extensions.Options;

namespace ReplayProxy.Spool;

/// <summary>Checks <c>ReplayProxy:Spool:*</c> at start; each message names the setting and what it accepts.</summary>
internal sealed class SpoolOptionsValidator : IValidateOptions<ReplayProxyOptions>
{
    public const int MinAnswerWithinMilliseconds = 100;
    public const int MaxAnswerWithinMilliseconds = 60_000;
    public const int MaxRetryMaxSeconds = 3600;
    public const long MinMaxBytes = 1;

    public ValidateOptionsResult Validate(string? name, ReplayProxyOptions options)
    {
        var errors = new List<string>();
        var spool = options.Spool;
        var section = $"{ReplayProxyOptions.SectionName}:Spool";

        if (spool.UsesDirectory && spool.UsesBlob)
        {
            errors.Add($"{section}:Directory and the Blob settings ({section}:BlobServiceUri or BlobConnectionString) are both set; choose one store.");
        }

        if (!string.IsNullOrWhiteSpace(spool.BlobServiceUri) && !string.IsNullOrWhiteSpace(spool.BlobConnectionString))
        {
            errors.Add($"{section}:BlobServiceUri and {section}:BlobConnectionString are both set; set only one.");
        }

        if (!string.IsNullOrWhiteSpace(spool.BlobServiceUri)
            && (!Uri.TryCreate(spool.BlobServiceUri, UriKind.Absolute, out var blob) || blob.Scheme != Uri.UriSchemeHttps || !string.IsNullOrEmpty(blob.Query)))
        {
            errors.Add($"{section}:BlobServiceUri is '{spool.BlobServiceUri}'; it must be the storage account's https blob endpoint such as 'https://account.blob.core.windows.net' (no query, no SAS).");
        }

        if (!string.IsNullOrWhiteSpace(spool.BlobClientId) && !Guid.TryParse(spool.BlobClientId, out _))
        {
            errors.Add($"{section}:BlobClientId must be the user-assigned identity's client id (a GUID), or empty for the system-assigned identity.");
        }

        if (spool.UsesBlob && !IsContainerName(spool.BlobContainerName))
        {
            errors.Add($"{section}:BlobContainerName is '{spool.BlobContainerName}'; it must be 3-63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit (default '{SpoolOptions.DefaultBlobContainerName}').");
        }

        if (spool.AnswerWithinMilliseconds is < MinAnswerWithinMilliseconds or > MaxAnswerWithinMilliseconds)
        {
            errors.Add($"{section}:AnswerWithinMilliseconds is {spool.AnswerWithinMilliseconds}; it must be between {MinAnswerWithinMilliseconds} and {MaxAnswerWithinMilliseconds} (default {SpoolOptions.DefaultAnswerWithinMilliseconds}, below the replay SDK's 10 s).");
        }

        if (spool.MaxAgeSeconds < 1)
        {
            errors.Add($"{section}:MaxAgeSeconds is {spool.MaxAgeSeconds}; it must be a positive number of seconds (default {SpoolOptions.DefaultMaxAgeSeconds}).");
        }

        if (spool.MaxBytes < MinMaxBytes)
        {
            errors.Add($"{section}:MaxBytes is {spool.MaxBytes}; it must be a positive number of bytes (default {SpoolOptions.DefaultMaxBytes}).");
        }

        if (spool.RetryMaxSeconds is < 1 or > MaxRetryMaxSeconds)
        {
            errors.Add($"{section}:RetryMaxSeconds is {spool.RetryMaxSeconds}; it must be between 1 and {MaxRetryMaxSeconds} (default {SpoolOptions.DefaultRetryMaxSeconds}).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static bool IsContainerName(string? name) =>
        name is { Length: >= 3 and <= 63 }
        && char.IsAsciiLetterOrDigit(name[0]) && char.IsAsciiLetterOrDigit(name[^1])
        && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')
        && !name.Contains("--", StringComparison.Ordinal);
}
