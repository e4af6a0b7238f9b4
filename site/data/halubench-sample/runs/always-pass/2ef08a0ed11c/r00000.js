halubenchData.inflate("halubench-sample/runs/always-pass/2ef08a0ed11c/r00000","eF7tyrEJgDAQQNFVjtSZwM4NhJQhxaEiyHEWSQjZXnAJm9+86uUc9sdrU29y9+M6F1EbOqtsa0ohejf7KJHJZDKZTCaTyWQymUzmT7O8L3+POA==");
