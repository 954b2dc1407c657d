
namespace Runs.Host.Tokens;

/// <summary>What a new token asks for: the body of <c>POST /v1/tokens</c>, and what <c>tokens create</c> asks.</summary>
public sealed record CreateTokenRequest(string? Name = null, string[]? Scopes = null, string[]? Jobs = null, DateTimeOffset? ExpiresAt = null)
{
    public sealed class Validator : AbstractValidator<CreateTokenRequest>
    {
        public Validator(TimeProvider clock)
        {
            RuleFor(x => x.Name).Must(n => !string.IsNullOrWhiteSpace(n) && n.Length <= 100 && !n.Any(char.IsControl))
                .WithMessage("'name' is required: at most 100 characters, no control characters.");
            RuleFor(x => x.Scopes).Must(s => s is { Length: > 0 } && s.All(Tokens.Scopes.All.Contains))
                .WithMessage($"'scopes' must be a non-empty subset of {string.Join(", ", Tokens.Scopes.All)}.");
            RuleFor(x => x.Jobs).Must(j => j is { Length: > 0 and <= 100 } && j.All(g => g is not null && (g == "*" || JobName.IsValid(g.Replace("*", "x")))))
                .WithMessage("'jobs' must list (at most 100) job names, globs such as 'nightly-*', or '*'.");
            RuleFor(x => x.ExpiresAt).Must(e => e is null || e > clock.GetUtcNow())
                .WithMessage("'expires_at' must be in the future.");
        }
    }
}
