using Amazon;
using Amazon.DynamoDBv2;
using Amazon.Runtime;

namespace SandboxBroker.Api.Storage.DynamoDb;

/// <summary>
/// Builds the DynamoDB client from <see cref="DynamoDbStorageOptions"/>: a bounded per-request timeout and few SDK
/// retries, so a store stall becomes a prompt 503 instead of a hung request.
/// </summary>
public static class DynamoDbClientFactory
{
    public const string DefaultRegion = "us-east-1";

    /// <param name="options">Table, endpoint, region, timeout and retries.</param>
    /// <param name="credentials">Explicit credentials (tests); null uses the SDK's default chain (environment, ECS task role).</param>
    public static AmazonDynamoDBClient Create(DynamoDbStorageOptions options, AWSCredentials? credentials = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var config = new AmazonDynamoDBConfig
        {
            Timeout = options.Timeout,
            MaxErrorRetry = options.MaxRetries,
        };
        if (!string.IsNullOrWhiteSpace(options.ServiceUrl))
        {
            // ServiceURL and RegionEndpoint exclude each other; the region still signs the requests.
            config.ServiceURL = options.ServiceUrl;
            config.AuthenticationRegion = string.IsNullOrWhiteSpace(options.Region) ? DefaultRegion : options.Region;
        }
        else if (!string.IsNullOrWhiteSpace(options.Region))
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }

        return credentials is null ? new AmazonDynamoDBClient(config) : new AmazonDynamoDBClient(credentials, config);
    }
}
