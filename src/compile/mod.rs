//! Variables, env and precedence: turns AST tasks into concrete commands.
