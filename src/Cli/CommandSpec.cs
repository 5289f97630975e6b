namespace KvnDb.Cli;

/// <summary>
/// One console command as help, tab completion and hints know it: its name, the arguments it takes
/// (the hint shown after what was typed), what it does, how many arguments it accepts (-1: any), its
/// aliases, and whether it works only at the prompt.
/// </summary>
internal sealed record CommandSpec(string Name, string Arguments, string Summary, int MinArgs, int MaxArgs, string[] Aliases, bool PromptOnly = false)
{
    public bool Accepts(int count) => count >= MinArgs && (MaxArgs < 0 || count <= MaxArgs);

    public string Usage => Arguments.Length == 0 ? Name : $"{Name} {Arguments}";
}
