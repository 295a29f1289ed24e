"""What both stages share: action catalogue, signing, policy, operator commands, silences."""
