namespace Appliance.Policy;

public enum PolicyAction : byte
{
    Allow,
    Deny,
    Review,
}
