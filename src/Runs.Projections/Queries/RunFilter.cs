using System.Globalization;
using System.Text;

namespace Runs.Projections.Queries;

/// <summary>A parsed AIP-160 filter: comparisons joined by AND, OR and NOT.</summary>
public abstract record RunFilter
{
    public sealed record All(RunFilter Left, RunFilter Right) : RunFilter;
    public sealed record Any(RunFilter Left, RunFilter Right) : RunFilter;
    public sealed record Not(RunFilter Inner) : RunFilter;
    public sealed record Compare(string Field, string Operator, string Value, bool Quoted, int Position) : RunFilter;

    /// <summary>Parses the filter; a <see cref="FilterError"/> names the position and what was expected.</summary>
    public static RunFilter Parse(string text) => new Parser(Lexer.Tokens(text)).Parse();
}

public sealed class FilterError(int position, string message) : Exception($"At position {position}: {message}")
{
    /// <summary>1-based character position in the filter.</summary>
    public int Position { get; } = position;
}

internal enum TokenKind
{
    Word,
    Text,
    Operator,
    Open,
    Close,
    End,
}

internal sealed record Token(TokenKind Kind, string Value, int Position);

internal static class Lexer
{
    private static readonly string[] Operators = ["!=", "<=", ">=", "=", "<", ">"];

    public static List<Token> Tokens(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }
            var position = i + 1;
            if (c == '(' || c == ')')
            {
                tokens.Add(new Token(c == '(' ? TokenKind.Open : TokenKind.Close, c.ToString(), position));
                i++;
                continue;
            }
            if (Operators.FirstOrDefault(o => string.CompareOrdinal(text, i, o, 0, o.Length) == 0) is { } op)
            {
                tokens.Add(new Token(TokenKind.Operator, op, position));
                i += op.Length;
                continue;
            }
            if (c == '"')
            {
                var value = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= text.Length)
                    {
                        throw new FilterError(position, "a string that starts here is never closed with '\"'.");
                    }
                    if (text[i] == '\\' && i + 1 < text.Length)
                    {
                        value.Append(text[i + 1]);
                        i += 2;
                        continue;
                    }
                    if (text[i] == '"')
                    {
                        i++;
                        break;
                    }
                    value.Append(text[i++]);
                }
                tokens.Add(new Token(TokenKind.Text, value.ToString(), position));
                continue;
            }
            var start = i;
            while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] is '_' or '.' or '-' or ':' or '+'))
            {
                i++;
            }
            if (i == start)
            {
                throw new FilterError(position, $"unexpected '{c}'.");
            }
            tokens.Add(new Token(TokenKind.Word, text[start..i], position));
        }
        tokens.Add(new Token(TokenKind.End, "", text.Length + 1));
        return tokens;
    }
}

internal sealed class Parser(List<Token> tokens)
{
    /// <summary>How deep NOT, '-' and parentheses may nest: deeper filters are refused, not sent to PostgreSQL.</summary>
    public const int MaxDepth = 32;

    /// <summary>How many comparisons one filter may hold.</summary>
    public const int MaxComparisons = 100;

    private int _next;
    private int _depth;
    private int _comparisons;

    private Token Peek => tokens[_next];

    public RunFilter Parse()
    {
        if (Peek.Kind == TokenKind.End)
        {
            throw new FilterError(1, "expected a comparison such as status = \"failed\".");
        }
        var filter = Or();
        if (Peek.Kind != TokenKind.End)
        {
            throw new FilterError(Peek.Position, $"expected AND, OR or the end of the filter, found '{Peek.Value}'.");
        }
        return filter;
    }

    private RunFilter Or()
    {
        var left = And();
        while (IsKeyword("OR"))
        {
            _next++;
            left = new RunFilter.Any(left, And());
        }
        return left;
    }

    private RunFilter And()
    {
        var left = Unary();
        while (true)
        {
            if (IsKeyword("AND"))
            {
                _next++;
                left = new RunFilter.All(left, Unary());
            }
            else if (Peek.Kind is TokenKind.Word or TokenKind.Open && !IsKeyword("OR"))
            {
                // AIP-160: terms side by side are joined by AND.
                left = new RunFilter.All(left, Unary());
            }
            else
            {
                return left;
            }
        }
    }

    private RunFilter Unary()
    {
        var token = Peek;
        if (++_depth > MaxDepth)
        {
            throw new FilterError(token.Position, $"the filter nests NOT, '-' or parentheses more than {MaxDepth} deep.");
        }
        try
        {
            return Term(token);
        }
        finally
        {
            _depth--;
        }
    }

    private RunFilter Term(Token token)
    {
        if (IsKeyword("NOT"))
        {
            _next++;
            return new RunFilter.Not(Unary());
        }
        if (token.Kind == TokenKind.Word && token.Value == "-")
        {
            _next++;
            return new RunFilter.Not(Unary());
        }
        if (token.Kind == TokenKind.Word && token.Value.StartsWith('-'))
        {
            // "-status = x": the minus negates the comparison that follows it.
            tokens[_next] = token with { Value = token.Value[1..], Position = token.Position + 1 };
            return new RunFilter.Not(Unary());
        }
        if (token.Kind == TokenKind.Open)
        {
            _next++;
            var inner = Or();
            if (Peek.Kind != TokenKind.Close)
            {
                throw new FilterError(Peek.Position, $"expected ')' to close the '(' at position {token.Position}.");
            }
            _next++;
            return inner;
        }
        return Comparison();
    }

    private RunFilter Comparison()
    {
        var field = Peek;
        if (++_comparisons > MaxComparisons)
        {
            throw new FilterError(field.Position, $"the filter holds more than {MaxComparisons} comparisons.");
        }
        if (field.Kind != TokenKind.Word || IsKeyword("AND") || IsKeyword("OR"))
        {
            throw new FilterError(field.Position, field.Kind == TokenKind.End
                ? "expected a field name, but the filter ended."
                : $"expected a field name, found '{field.Value}'.");
        }
        _next++;
        var op = Peek;
        if (op.Kind != TokenKind.Operator)
        {
            throw new FilterError(op.Position, $"expected an operator (= != < > <= >=) after '{field.Value}'.");
        }
        _next++;
        var value = Peek;
        if (value.Kind is not (TokenKind.Word or TokenKind.Text))
        {
            throw new FilterError(value.Position, $"expected a value after '{field.Value} {op.Value}'.");
        }
        _next++;
        return new RunFilter.Compare(field.Value, op.Value, value.Value, value.Kind == TokenKind.Text, field.Position);
    }

    private bool IsKeyword(string keyword) => Peek.Kind == TokenKind.Word && Peek.Value == keyword;
}
