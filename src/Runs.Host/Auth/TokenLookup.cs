

namespace Runs.Host.Auth;

/// <summary>
/// The connection pool that only token lookups use. Every request authenticates first, so if the pool
/// that reads and writes share ran dry (slow clients, long transfers), a lookup through it would wait
/// too, and every caller would fail; a small pool of its own keeps authentication answering.
/// </summary>
public sealed record TokenDatabase(NpgsqlDataSource DataSource) : IDisposable, IAsyncDisposable
{
    public void Dispose() => DataSource.Dispose();

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();

    public static TokenDatabase Create(string connectionString, int poolSize)
    {
        var settings = ConnectionSettings.For(connectionString);
        settings.MaxPoolSize = poolSize;
        settings.MinPoolSize = Math.Min(settings.MinPoolSize, poolSize);
        return new TokenDatabase(NpgsqlDataSource.Create(settings.ConnectionString));
    }
}

/// <summary>Finds and checks tokens, straight through Npgsql on the token pool: one indexed read, no session or LINQ.</summary>
public sealed class TokenLookup(TokenDatabase database, IDocumentStore store, TimeProvider clock)
{
    public Task<ApiToken?> FindByHashAsync(string hash, CancellationToken cancellation) =>
        FindAsync($"select data from {RunsStore.Schema}.mt_doc_apitoken where data ->> 'hash' = $1", hash, cancellation);

    public const string Unknown = "The token is unknown or was revoked.";
    public const string Expired = "The token has expired.";

    public bool HasExpired(ApiToken token) => token.ExpiresOn is { } expires && expires <= clock.GetUtcNow();

    /// <summary>Why the token with this id no longer authenticates (revoked or expired); null while it does.</summary>
    public async Task<string?> RefusalAsync(string tokenId, CancellationToken cancellation) =>
        await FindAsync($"select data from {RunsStore.Schema}.mt_doc_apitoken where id = $1", tokenId, cancellation) switch
        {
            null => Unknown,
            { } token when HasExpired(token) => Expired,
            _ => null,
        };

    /// <summary>Last use is kept to the minute: a write per request would cost more than it tells.</summary>
    public async Task NoteUseAsync(ApiToken token, CancellationToken cancellation)
    {
        var now = clock.GetUtcNow();
        if (token.LastUsedOn is { } last && now - last < TimeSpan.FromMinutes(1))
        {
            return;
        }
        await using var command = database.DataSource.CreateCommand(
            $"update {RunsStore.Schema}.mt_doc_apitoken set data = jsonb_set(data, '{{last_used_on}}', to_jsonb($2::text)) where id = $1");
        command.Parameters.Add(new() { Value = token.Id });
        command.Parameters.Add(new() { Value = now.UtcDateTime.ToString("O") });
        await command.ExecuteNonQueryAsync(cancellation);
    }

    private async Task<ApiToken?> FindAsync(string sql, string value, CancellationToken cancellation)
    {
        await using var command = database.DataSource.CreateCommand(sql);
        command.Parameters.Add(new() { Value = value });
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        return await reader.ReadAsync(cancellation)
            ? store.Options.Serializer().FromJson<ApiToken>(reader, 0)
            : null;
    }
}
