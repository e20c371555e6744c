namespace SandboxBroker.Api.Storage;

/// <summary>The store could not be reached or throttled us; the API answers 503 with Retry-After.</summary>
public sealed class StoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A list position token this store did not issue (garbled or forged); the API answers 400.</summary>
public sealed class InvalidCursorException(string message) : Exception(message);
